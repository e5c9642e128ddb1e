// This file replays the Kamailio 5.6.3 oracle scenarios against the engine (not through
// the C ABI). It runs only with HC_ORACLE=1 and needs /work/shared/oracle/server.py
// running on its fixed ports with certificates from mkcerts.sh in HC_ORACLE_CERTS
// (default /tmp/hc-oracle-certs). HC_ORACLE_ONLY=id1,id2 restricts the run.

package engine

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

type oracleScenario struct {
	ID         string          `json:"id"`
	Modparams  [][2]any        `json:"modparams"`
	ConfigFile *string         `json:"config_file"`
	Server     json.RawMessage `json:"server"`
	Calls      []struct {
		Fn     string          `json:"fn"`
		Args   []string        `json:"args"`
		Server json.RawMessage `json:"server"`
		Settle float64         `json:"settle"`
	} `json:"calls"`
}

type oracleCall struct {
	Fn          string           `json:"fn"`
	Ret         *int             `json:"ret"`
	Result      *string          `json:"result"`
	ResultUnset bool             `json:"result_unset"`
	ResultLen   int              `json:"result_len"`
	ResultMD5   string           `json:"result_md5"`
	Curlerror   *string          `json:"curlerror"`
	Requests    []map[string]any `json:"requests"`
	ReqTotal    int              `json:"requests_total"`
	ConnTotal   int              `json:"connections_total"`
}

type oracleRecord struct {
	Status string       `json:"status"`
	Calls  []oracleCall `json:"calls"`
}

var digestVolatile = regexp.MustCompile(`(cnonce|response)="[^"]*"`)

func normRequests(reqs []map[string]any, conns map[float64]int) []string {
	var out []string
	for _, r := range reqs {
		e := map[string]any{}
		for k, v := range r {
			switch k {
			case "client_port", "seq", "error":
				continue
			case "conn_id":
				id := v.(float64)
				if _, ok := conns[id]; !ok {
					conns[id] = len(conns)
				}
				e["conn"] = float64(conns[id])
				continue
			case "headers":
				var hs []string
				for _, h := range v.([]any) {
					kv := h.([]any)
					hs = append(hs, strings.ToLower(kv[0].(string))+": "+digestVolatile.ReplaceAllString(kv[1].(string), `$1="*"`))
				}
				sort.Strings(hs)
				e[k] = hs
				continue
			}
			e[k] = v
		}
		b, _ := json.Marshal(e)
		out = append(out, string(b))
	}
	return out
}

func TestOracleReplay(t *testing.T) {
	if os.Getenv("HC_ORACLE") == "" {
		t.Skip("set HC_ORACLE=1 with server.py running to replay the oracle")
	}
	dir := "/work/shared/oracle"
	certs := os.Getenv("HC_ORACLE_CERTS")
	if certs == "" {
		certs = "/tmp/hc-oracle-certs"
	}
	var sc struct{ Scenarios []oracleScenario }
	var res struct{ Results map[string]oracleRecord }
	mustJSON(t, filepath.Join(dir, "scenarios.json"), &sc)
	mustJSON(t, filepath.Join(dir, "results", "kamailio-5.6.3.json"), &res)
	only := map[string]bool{}
	for _, id := range strings.Split(os.Getenv("HC_ORACLE_ONLY"), ",") {
		if id != "" {
			only[id] = true
		}
	}
	ph := map[string]string{"CERTS": certs}
	for name, off := range map[string]int{"HTTP": 0, "CLOSED": 1, "HTTPS": 2, "HTTPS_CLIENT": 3, "HTTPS_WRONG": 4, "HTTPS_SELF": 5, "HTTPS_TLS12": 6} {
		ph[name] = "127.0.0.1:" + strconv.Itoa(28080+off)
	}
	work := t.TempDir()
	passed, failed := 0, 0
	for _, s := range sc.Scenarios {
		if len(only) > 0 && !only[s.ID] {
			continue
		}
		rec := res.Results[s.ID]
		ok := t.Run(s.ID, func(t *testing.T) { replayScenario(t, s, rec, ph, work) })
		if ok {
			passed++
		} else {
			failed++
		}
	}
	t.Logf("oracle replay: %d passed, %d failed", passed, failed)
}

func subst(s string, ph map[string]string) string {
	for k, v := range ph {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

func mustJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func replayScenario(t *testing.T, s oracleScenario, rec oracleRecord, ph map[string]string, work string) {
	ph = map[string]string{"CERTS": ph["CERTS"], "HTTP": ph["HTTP"], "CLOSED": ph["CLOSED"], "HTTPS": ph["HTTPS"],
		"HTTPS_CLIENT": ph["HTTPS_CLIENT"], "HTTPS_WRONG": ph["HTTPS_WRONG"], "HTTPS_SELF": ph["HTTPS_SELF"], "HTTPS_TLS12": ph["HTTPS_TLS12"]}
	var text strings.Builder
	hasCF := false
	if s.ConfigFile != nil {
		p := filepath.Join(work, s.ID+".ini")
		if err := os.WriteFile(p, []byte(subst(*s.ConfigFile, ph)), 0o644); err != nil {
			t.Fatal(err)
		}
		ph["CONFIG_FILE"] = p
	}
	for _, mp := range s.Modparams {
		name := mp[0].(string)
		if name == "config_file" {
			hasCF = true
		}
		switch v := mp[1].(type) {
		case float64:
			fmt.Fprintf(&text, "%s = %d\n", name, int(v))
		case string:
			fmt.Fprintf(&text, "%s = %s\n", name, subst(v, ph))
		}
	}
	if s.ConfigFile != nil && !hasCF {
		fmt.Fprintf(&text, "config_file = %s\n", ph["CONFIG_FILE"])
	}
	cfg, err := ParseSettings(text.String())
	if rec.Status == "config_error" {
		if err == nil {
			t.Errorf("oracle: config_error, ParseSettings accepted:\n%s", text.String())
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseSettings: %v\n%s", err, text.String())
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	conns, wantConns := map[float64]int{}, map[float64]int{}
	for i, call := range s.Calls {
		beh := call.Server
		if len(beh) == 0 {
			beh = s.Server
		}
		if len(beh) == 0 {
			beh = json.RawMessage("{}")
		}
		control(t, []byte(subst(string(beh), ph)))
		args := make([]string, len(call.Args))
		for j, a := range call.Args {
			args[j] = expandPV(subst(a, ph))
		}
		if call.Fn == "http_connect_raw" {
			args[3] = subst(call.Args[3], ph)
		}
		var ret int
		var result *string
		curlerr := ""
		str := func(b []byte) *string { s := string(b); return &s }
		switch call.Fn {
		case "http_connect", "http_connect_raw":
			var r *Result
			if len(args) == 2 {
				r = e.HTTPConnect(args[0], args[1], OptString{}, nil)
			} else {
				r = e.HTTPConnect(args[0], args[1], Some(args[2]), []byte(args[3]))
			}
			ret, result = r.Ret, str(r.Body)
		case "http_client_query":
			var r *Result
			switch len(args) {
			case 1:
				r = e.Query(args[0], nil, "")
			case 2:
				r = e.Query(args[0], []byte(args[1]), "")
			default:
				r = e.Query(args[0], []byte(args[1]), args[2])
			}
			ret = r.Ret
			if !(r.Ret == -1 && args[0] == "") {
				result = str(r.Body)
			}
		case "http_client_get":
			r := e.ClientGet(args[0], []byte(args[1]), args[2])
			ret, result = r.Ret, str(r.Body)
		case "http_get_redirect":
			u, rr := e.GetRedirect(args[0])
			ret, result = rr, &u
		case "curlerror":
			n, _ := strconv.Atoi(args[0])
			s := CurlErrorText(n)
			result = &s
		}
		if call.Fn != "http_get_redirect" && call.Fn != "curlerror" && ret >= 0 && ret <= 99 {
			curlerr = CurlErrorText(ret)
		}
		settle := call.Settle
		if settle == 0 {
			settle = 0.05
		}
		time.Sleep(time.Duration(settle * float64(time.Second)))
		var log []map[string]any
		getJSON(t, "http://127.0.0.1:28089/log", &log)

		want := rec.Calls[i]
		if call.Fn != "curlerror" {
			if want.Ret == nil || *want.Ret != ret {
				t.Errorf("call %d %s%q: ret %d, oracle %v", i, call.Fn, call.Args, ret, deref(want.Ret))
			}
			if want.Curlerror != nil && *want.Curlerror != curlerr {
				t.Errorf("call %d: curlerror %q, oracle %q", i, curlerr, *want.Curlerror)
			}
		}
		switch {
		case want.ResultUnset:
			if result != nil {
				t.Errorf("call %d: result set %q, oracle unset", i, *result)
			}
		case result == nil:
			t.Errorf("call %d: result unset, oracle %v", i, deref(want.Result))
		case want.Result != nil:
			if *want.Result != *result {
				t.Errorf("call %d: result %q, oracle %q", i, trunc(*result), trunc(*want.Result))
			}
		default:
			sum := md5.Sum([]byte(*result))
			if len(*result) != want.ResultLen || hex.EncodeToString(sum[:]) != want.ResultMD5 {
				t.Errorf("call %d: result len %d, oracle len %d (md5 differs or len)", i, len(*result), want.ResultLen)
			}
		}
		capped := log
		if len(capped) > 20 {
			capped = capped[:20]
		}
		got := normRequests(capped, conns)
		wantReqs := normRequests(renameConn(want.Requests), wantConns)
		if s.ID == "redirect_loop_slow" {
			if len(got) > 3 {
				got = got[:3]
			}
			if len(wantReqs) > 3 {
				wantReqs = wantReqs[:3]
			}
		} else if want.ReqTotal > 0 && (len(log) != want.ReqTotal) {
			t.Errorf("call %d: %d requests in total, oracle %d", i, len(log), want.ReqTotal)
		}
		if strings.Join(got, "\n") != strings.Join(wantReqs, "\n") {
			t.Errorf("call %d: requests differ\n got: %s\nwant: %s", i, strings.Join(got, "\n      "), strings.Join(wantReqs, "\n      "))
		}
	}
}

// renameConn turns the oracle's "conn" numbers back into ids for normRequests.
func renameConn(reqs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		m := map[string]any{}
		for k, v := range r {
			if k == "conn" {
				m["conn_id"] = v
				continue
			}
			m[k] = v
		}
		out[i] = m
	}
	return out
}

// expandPV expands the pseudo-variables the oracle's Kamailio had.
func expandPV(s string) string {
	r := strings.NewReplacer("$(rU)", "oracle", "$(rd)", "127.0.0.1", "$rm", "MESSAGE", "$ru", "sip:oracle@127.0.0.1:15060",
		"$fu", "sip:driver@127.0.0.1", "$rU", "oracle", "$rd", "127.0.0.1")
	return r.Replace(s)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func control(t *testing.T, beh []byte) {
	resp, err := http.Post("http://127.0.0.1:28089/behaviour", "application/json", bytes.NewReader(beh))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func getJSON(t *testing.T, url string, v any) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
