package engine

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recycledBody is the body the test server answers /r/I?n=N with: N bytes that name I.
func recycledBody(i, n int) []byte {
	seed := []byte(fmt.Sprintf("<%d>", i))
	return bytes.Repeat(seed, n/len(seed)+1)[:n]
}

// TestRecycledMemoryIsNotShared runs many requests through the loop, releasing half of
// the results as soon as they are checked (their memory serves later ones) and keeping
// the other half to the end. A result whose memory were reused while it is held, or a
// spec reused while its job runs, would show another request's body, header or URL.
func TestRecycledMemoryIsNotShared(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("X-Request", strconv.Itoa(i))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(recycledBody(i, n))
	}))
	defer srv.Close()
	e := bgtEngine(t, `pool = {"id": "p", "max_total": 64}`)

	// Sizes cross the loop's buffer (4 KiB), the pooled result's limit (8 KiB) and the
	// allocator's threshold (32 KiB, where the body leaves the result's buffer).
	sizes := []int{0, 1, 128, 3000, 5000, 9000, 40000}
	const total = 3000
	url := func(i int) string { return fmt.Sprintf("%s/r/%d?n=%d", srv.URL, i, sizes[i%len(sizes)]) }
	check := func(i int, r *BackgroundResult) string {
		want := recycledBody(i, sizes[i%len(sizes)])
		switch {
		case r.Status != 200:
			return fmt.Sprintf("status %d %s %s", r.Status, r.Error, r.Detail)
		case !bytes.Equal(r.Content, want):
			return fmt.Sprintf("body of %d bytes starting %.12q, want %d bytes starting %.12q", len(r.Content), r.Content, len(want), want)
		case !bytes.Contains(r.Header, []byte("X-Request: "+strconv.Itoa(i)+"\r\n")):
			return fmt.Sprintf("header block %q", r.Header)
		case r.EffectiveURL != url(i):
			return fmt.Sprintf("effective URL %q", r.EffectiveURL)
		}
		return ""
	}

	request := map[uint64]int{}
	var kept []*BackgroundResult
	submitted, done := 0, 0
	deadline := time.Now().Add(60 * time.Second)
	for done < total {
		for submitted < total && submitted-done < 64 {
			id := bgtSubmit(t, e, "p", url(submitted), nil)
			request[id] = submitted
			submitted++
		}
		r := e.Poll(time.Second)
		if r == nil {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d results after 60 s", done, total)
			}
			continue
		}
		i, ok := request[r.ID]
		if !ok {
			t.Fatalf("result for unknown id %d", r.ID)
		}
		delete(request, r.ID)
		if msg := check(i, r); msg != "" {
			t.Fatalf("request %d, polled: %s", i, msg)
		}
		if i%2 == 0 {
			e.Release(r)
		} else {
			kept = append(kept, r)
		}
		done++
	}
	for _, r := range kept {
		var i int
		if _, err := fmt.Sscanf(r.EffectiveURL[len(srv.URL):], "/r/%d", &i); err != nil {
			t.Fatalf("kept result with URL %q", r.EffectiveURL)
		}
		if msg := check(i, r); msg != "" {
			t.Fatalf("request %d, kept to the end: %s", i, msg)
		}
	}
	if n := e.bg.loop.stats.completed.Load(); n < total/2 {
		t.Fatalf("the loop completed %d of %d requests itself: the test does not exercise its recycling", n, total)
	}
}

// TestSubmitLeavesCallersSpec: a spec the caller built is never recycled, whoever
// finishes its request; only ParseBackgroundRequest's are.
func TestSubmitLeavesCallersSpec(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	e := bgtEngine(t, `pool = {"id": "p"}`)
	spec, err := ParseBackgroundRequest(srv.URL+"/mine", nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	spec.pooled = false // as a spec built by the caller
	if _, err := e.Submit("p", spec); err != nil {
		t.Fatal(err)
	}
	r := bgtPoll(t, e, 10*time.Second)
	if r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Detail)
	}
	e.Release(r)
	if spec.URL != srv.URL+"/mine" || spec.Method != "GET" || spec.parsed != &spec.url {
		t.Fatalf("the caller's spec changed after its request: %+v", spec)
	}
}

// TestSparesDoNotPinLargeHeads: the loop keeps ended transfers for reuse for ever, so a
// server's large response heads must not stay pinned in their header memory.
func TestSparesDoNotPinLargeHeads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Large", strings.Repeat("h", 3000))
		w.Header().Set("Content-Length", "2")
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	e := bgtEngine(t, `pool = {"id": "p", "max_total": 16}`)
	const n = 64
	for i := 0; i < n; i++ {
		bgtSubmit(t, e, "p", srv.URL+"/", nil)
	}
	for _, r := range bgtPollN(t, e, n, 30*time.Second) {
		if r.Status != 200 || len(r.Header) < 3000 {
			t.Fatalf("status %d %s, header block of %d bytes", r.Status, r.Detail, len(r.Header))
		}
	}
	l := e.bg.loop
	for !l.lead.CompareAndSwap(leadNone, leadHost) { // the loop's own fields are the leader's
		time.Sleep(time.Millisecond)
	}
	defer l.lead.Store(leadNone)
	if l.stats.completed.Load() != n {
		t.Fatalf("the loop completed %d of %d requests itself", l.stats.completed.Load(), n)
	}
	l.reuseEnded()
	if len(l.spare) == 0 {
		t.Fatal("no ended transfer was kept for reuse")
	}
	for _, s := range l.spare {
		if cap(s.hdr) > maxSpareHeader {
			t.Fatalf("a spare transfer pins %d bytes of header memory (limit %d)", cap(s.hdr), maxSpareHeader)
		}
	}
}
