//go:build ignore

// genseeds writes the fuzz seed corpora from the two oracles' scenarios, so that every
// input the oracles feed hc (modparams, INI files, httpcon values, call URLs, hdrs and
// content types, redirect Locations, Halon URLs, options and posts) is a seed:
//
//	go run ./engine/testdata/fuzz/genseeds.go -oracle ../shared/oracle
//
// (make fuzz-seeds). It rewrites the oracle-* files of engine/testdata/fuzz/<Target>/
// and leaves other files (crashers kept as regression inputs) alone. Placeholders become
// the oracle's fixed loopback ports, as the replays substitute them.
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

var placeholders = map[string]string{
	"{{HTTP}}": "127.0.0.1:28080", "{{CLOSED}}": "127.0.0.1:28081", "{{HTTPS}}": "127.0.0.1:28082",
	"{{HTTPS_CLIENT}}": "127.0.0.1:28083", "{{HTTPS_WRONG}}": "127.0.0.1:28084", "{{HTTPS_SELF}}": "127.0.0.1:28085",
	"{{STALL}}": "127.0.0.1:28086", "{{CERTS}}": "/tmp/hc-oracle/certs", "{{FILES}}": "/tmp/hc-oracle/files",
	"{{CONFIG_FILE}}": "/t.ini",
}

func subst(s string) string {
	for k, v := range placeholders {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// corpus collects the seed files of one target: name -> encoded values.
type corpus map[string][]string

func (c corpus) add(name string, values ...string) {
	body := "go test fuzz v1\n" + strings.Join(values, "\n") + "\n"
	for _, old := range c { // the same input twice is one seed
		if old[0] == body {
			return
		}
	}
	c[name] = []string{body}
}

func str(s string) string   { return "string(" + strconv.Quote(s) + ")" }
func bytes(s string) string { return "[]byte(" + strconv.Quote(s) + ")" }
func boolean(b bool) string { return "bool(" + strconv.FormatBool(b) + ")" }
func seedName(parts ...any) string {
	s := fmt.Sprint(parts...)
	return "oracle-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

type kamScenario struct {
	ID         string          `json:"id"`
	ModParams  [][2]any        `json:"modparams"`
	ConfigFile *string         `json:"config_file"`
	Server     json.RawMessage `json:"server"`
	Calls      []struct {
		Fn   string   `json:"fn"`
		Args []string `json:"args"`
	} `json:"calls"`
}

type halonScenario struct {
	ID   string `json:"id"`
	Call struct {
		URL     any             `json:"url"`
		Options json.RawMessage `json:"options"`
		Post    json.RawMessage `json:"post"`
		Config  json.RawMessage `json:"config"`
	} `json:"call"`
}

func main() {
	oracle := flag.String("oracle", "../shared/oracle", "the oracle directory (scenarios.json, halon/)")
	out := flag.String("out", "engine/testdata/fuzz", "the corpus root")
	flag.Parse()

	targets := map[string]corpus{}
	for _, t := range []string{"FuzzHTTPCon", "FuzzINI", "FuzzURL", "FuzzHeaderEntry", "FuzzBackgroundOptions", "FuzzSettings"} {
		targets[t] = corpus{}
	}
	kamailio(filepath.Join(*oracle, "scenarios.json"), targets)
	halon(filepath.Join(*oracle, "halon", "scenarios.json"), targets)

	for t, c := range targets {
		dir := filepath.Join(*out, t)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "oracle-*"))
		for _, f := range old {
			os.Remove(f)
		}
		names := make([]string, 0, len(c))
		for n := range c {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(c[n][0]), 0o644); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("%s: %d oracle seeds\n", t, len(c))
	}
}

func readJSON(path string, v any) {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func kamailio(path string, t map[string]corpus) {
	var file struct {
		Scenarios []kamScenario `json:"scenarios"`
	}
	readJSON(path, &file)
	for _, sc := range file.Scenarios {
		// The settings text as the replay builds it, and the INI file.
		var lines []string
		cons := map[string]string{} // connection name -> "scheme://rest" as configured
		for _, mp := range sc.ModParams {
			name := fmt.Sprint(mp[0])
			value := subst(fmt.Sprint(mp[1]))
			if b, ok := mp[1].(bool); ok {
				value = map[bool]string{true: "1", false: "0"}[b]
			}
			lines = append(lines, name+" = "+value)
			if name == "httpcon" {
				t["FuzzHTTPCon"].add(seedName(sc.ID, "-", len(t["FuzzHTTPCon"])), str(value))
				if n, u, ok := strings.Cut(value, "=>"); ok {
					u, _, _ = strings.Cut(strings.TrimSpace(u), ";")
					cons[strings.TrimSpace(n)] = u
				}
			}
		}
		ini := ""
		if sc.ConfigFile != nil {
			ini = subst(*sc.ConfigFile)
			t["FuzzINI"].add(seedName(sc.ID), bytes(ini))
			lines = append(lines, "config_file = /t.ini")
			section := ""
			for _, l := range strings.Split(ini, "\n") {
				l = strings.TrimSpace(l)
				if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
					section = l[1 : len(l)-1]
				} else if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "url" {
					cons[section] = strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
		t["FuzzSettings"].add(seedName(sc.ID), str(strings.Join(lines, "\n")+"\n"), bytes(ini))

		// Redirect targets the scenario's server sends.
		var locations []string
		collectLocations(sc.Server, &locations)
		if len(locations) == 0 {
			locations = []string{""}
		}
		for i, call := range sc.Calls {
			args := make([]string, len(call.Args))
			for j, a := range call.Args {
				args[j] = subst(a)
			}
			arg := func(j int) string {
				if j < len(args) {
					return args[j]
				}
				return ""
			}
			switch call.Fn {
			case "http_connect", "http_connect_raw":
				base := cons[arg(0)]
				for k, loc := range locations {
					t["FuzzURL"].add(seedName(sc.ID, "-", i, "-", k), str(base), str(arg(1)), str(loc))
				}
				if len(args) >= 4 {
					t["FuzzHeaderEntry"].add(seedName(sc.ID, "-", i, "-ctype"), str("Content-Type: "+arg(2)), str("POST"))
				}
			case "http_client_query", "http_client_get":
				for k, loc := range locations {
					t["FuzzURL"].add(seedName(sc.ID, "-", i, "-", k), str(""), str(arg(0)), str(loc))
				}
				if h := arg(2); h != "" {
					t["FuzzHeaderEntry"].add(seedName(sc.ID, "-", i, "-hdrs"), str(h), str("GET"))
				}
			}
		}
	}
}

// collectLocations finds every "Location" header value in a server description.
func collectLocations(raw json.RawMessage, out *[]string) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && strings.EqualFold(k, "Location") {
					*out = append(*out, subst(s))
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	sort.Strings(*out)
}

func halon(path string, t map[string]corpus) {
	var file struct {
		Scenarios []halonScenario `json:"scenarios"`
	}
	readJSON(path, &file)
	for _, sc := range file.Scenarios {
		url, _ := sc.Call.URL.(string)
		url = subst(url)
		var options any
		if len(sc.Call.Options) > 0 {
			json.Unmarshal([]byte(subst(string(sc.Call.Options))), &options)
		}
		// The post as ctest/halon/adapter passes it: a string or base64 body, or the
		// post_file / form options.
		body, bodySet := "", false
		var post any
		if len(sc.Call.Post) > 0 {
			json.Unmarshal([]byte(subst(string(sc.Call.Post))), &post)
		}
		switch p := post.(type) {
		case nil:
		case string:
			body, bodySet = p, true
		case map[string]any:
			if b64, ok := p["b64"].(string); ok && len(p) == 1 {
				data, _ := base64.StdEncoding.DecodeString(b64)
				body, bodySet = string(data), true
				break
			}
			opts, ok := options.(map[string]any)
			if options == nil {
				opts, ok = map[string]any{}, true
			}
			if ok {
				if f, has := p["file"]; has {
					opts["post_file"] = f
				} else if fields, has := p["fields"]; has {
					opts["form"] = fields
				} else {
					opts["form"] = p
				}
				options = opts
			}
		default:
			if opts, ok := options.(map[string]any); ok || options == nil {
				if opts == nil {
					opts = map[string]any{}
				}
				opts["form"] = p
				options = opts
			}
		}
		optText := ""
		if options != nil {
			b, _ := json.Marshal(options)
			optText = string(b)
		}
		t["FuzzBackgroundOptions"].add(seedName("halon-", sc.ID), str(url), bytes(optText), bytes(body), boolean(bodySet))
		if opts, ok := options.(map[string]any); ok {
			if hs, ok := opts["headers"].([]any); ok {
				for i, h := range hs {
					if s, ok := h.(string); ok {
						t["FuzzHeaderEntry"].add(seedName("halon-", sc.ID, "-", i), str(s), str("GET"))
					}
				}
			}
			if m, ok := opts["method"].(string); ok {
				t["FuzzHeaderEntry"].add(seedName("halon-", sc.ID, "-method"), str("X-A: 1"), str(m))
			}
		}
		if url != "" {
			t["FuzzURL"].add(seedName("halon-", sc.ID), str(""), str(url), str(""))
		}
		if len(sc.Call.Config) > 0 {
			var cfg struct {
				Threads []map[string]any `json:"threads"`
			}
			json.Unmarshal(sc.Call.Config, &cfg)
			var lines []string
			for _, th := range cfg.Threads {
				b, _ := json.Marshal(th)
				lines = append(lines, "pool = "+string(b))
			}
			t["FuzzSettings"].add(seedName("halon-", sc.ID), str(strings.Join(lines, "\n")+"\n"), bytes(""))
		}
	}
}
