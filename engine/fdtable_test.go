package engine

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestDescriptorsNeeded(t *testing.T) {
	kept, notKept := testConn("a", "http", "h"), testConn("b", "http", "h")
	kept.KeepConnections = 1
	tests := []struct {
		name string
		cfg  *Config
		want int
	}{
		{"nothing configured", testConfig(), 0},
		{"kept connections count one each", testConfig(kept, notKept, nil), 1},
		{"pools count max_total", &Config{Pools: []PoolConfig{{ID: "x", MaxTotal: 256}, {ID: "y", MaxTotal: 3}}}, 259},
		{"an unlimited pool counts its connection cache", &Config{Pools: []PoolConfig{{ID: "x"}}}, maxIdlePerConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := descriptorsNeeded(tt.cfg); got != tt.want {
				t.Errorf("descriptorsNeeded = %d, want %d", got, tt.want)
			}
		})
	}
}

// fdTableSize is the kernel's size of this process's descriptor table (FDSize).
func fdTableSize(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "FDSize:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no FDSize in /proc/self/status")
	return 0
}

// New grows the descriptor table for a pool's burst of connections, so that no request
// waits for the table to grow (fdtable.go), and leaves no descriptor open for it.
func TestNewReservesDescriptors(t *testing.T) {
	before := fdTableSize(t)
	highest, err := highestOpenDescriptor()
	if err != nil {
		t.Fatal(err)
	}
	maxTotal := before + 100 // more than the table holds now, whatever it starts at
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if uint64(highest+maxTotal+8) > lim.Cur || highest+maxTotal+8 > maxReservedDescriptors {
		t.Skipf("RLIMIT_NOFILE %d is below the %d descriptors this test reserves", lim.Cur, highest+maxTotal+8)
	}
	cfg := testConfig()
	cfg.Pools = []PoolConfig{{ID: "burst", MaxTotal: maxTotal}}
	newTestEngine(t, cfg)

	if got, want := fdTableSize(t), highest+maxTotal; got < want {
		t.Errorf("descriptor table holds %d after New, want at least %d (it held %d before)", got, want, before)
	}
	after, err := highestOpenDescriptor()
	if err != nil {
		t.Fatal(err)
	}
	if after > highest+8 { // the loop's epoll and eventfd, and Go's own, sit low
		t.Errorf("highest open descriptor went from %d to %d: the reservation's duplicate was left open", highest, after)
	}
}
