package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestListconEmpty(t *testing.T) {
	for _, c := range []*Config{nil, {}, settingsOK(t, "useragent = x", nil)} {
		out, err := c.ListconJSON()
		if err != nil || string(out) != `{"connections":[]}` {
			t.Errorf("ListconJSON() = %s, %v; want {\"connections\":[]}", out, err)
		}
	}
}

// TestListconOrder checks Kamailio's listcon order: config-file connections in file order,
// then httpcon connections in reverse definition order.
func TestListconOrder(t *testing.T) {
	c, err := loadINI("httpcon = h1=>http://h/1\nhttpcon = h2=>http://h/2\nhttpcon = h3=>http://h/3",
		"[f1]\nurl = http://h/f1\n[f2]\nurl = http://h/f2\n")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ListconJSON()
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Connections []struct {
			Name     string `json:"name"`
			FromFile bool   `json:"from_file"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list.Connections {
		got = append(got, e.Name)
		if e.FromFile != strings.HasPrefix(e.Name, "f") {
			t.Errorf("%s: from_file = %v", e.Name, e.FromFile)
		}
	}
	if want := []string{"f1", "f2", "h3", "h2", "h1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// TestListconFields checks every field, null for unset strings, and password masking.
func TestListconFields(t *testing.T) {
	c, err := loadINI(`httpproxyport = 3128
httpproxy = http://proxy:1
client_cert = /c.crt
httpcon = h1=>https://user:S3cretHTTPCON@api.example.com/v1;timeout=2;failover=f1;tlsversion=6;useragent=UA;cipher_suites=HIGH`,
		`[f1]
url = http://fileuser:S3cretURL@h/x?a=1&b=2
password = S3cretKEY
[f2]
url = http://h
useragent = ""
`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ListconJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"S3cretHTTPCON", "S3cretURL", "S3cretKEY"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("password %q in listcon: %s", secret, out)
		}
	}
	var list struct {
		Connections []map[string]any `json:"connections"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Connections) != 3 {
		t.Fatalf("%d connections", len(list.Connections))
	}
	fields := []string{"name", "schema", "url", "username", "password", "failover", "timeout", "maxdatasize", "useragent",
		"httpredirect", "verify_peer", "verify_host", "tlsversion", "authmethod", "keep_connections", "client_cert",
		"client_key", "cipher_suites", "http_proxy", "http_proxy_port", "from_file"}
	for _, e := range list.Connections {
		if len(e) != len(fields) {
			t.Errorf("%v: %d fields, want %d", e["name"], len(e), len(fields))
		}
		for _, f := range fields {
			if _, ok := e[f]; !ok {
				t.Errorf("%v: field %q missing", e["name"], f)
			}
		}
	}
	f1, f2, h1 := list.Connections[0], list.Connections[1], list.Connections[2]
	want := map[string]any{
		"name": "f1", "schema": "http", "url": "fileuser:***@h/x?a=1&b=2", "username": nil, "password": "***", "failover": nil,
		"timeout": 4.0, "maxdatasize": 0.0, "useragent": DefaultUserAgent, "httpredirect": 0.0, "verify_peer": 1.0,
		"verify_host": 2.0, "tlsversion": 0.0, "authmethod": 3.0, "keep_connections": 0.0, "client_cert": "/c.crt",
		"client_key": nil, "cipher_suites": nil, "http_proxy": "http://proxy:1", "http_proxy_port": 3128.0, "from_file": true,
	}
	if !reflect.DeepEqual(f1, want) {
		t.Errorf("f1\n got %v\nwant %v", f1, want)
	}
	if f2["useragent"] != "" || f2["password"] != nil || f2["username"] != nil {
		t.Errorf("f2 = %v", f2)
	}
	want = map[string]any{
		"name": "h1", "schema": "https", "url": "api.example.com/v1", "username": "user", "password": "***", "failover": "f1",
		"timeout": 2.0, "maxdatasize": 0.0, "useragent": "UA", "httpredirect": 0.0, "verify_peer": 1.0,
		"verify_host": 2.0, "tlsversion": 6.0, "authmethod": 3.0, "keep_connections": 0.0, "client_cert": "/c.crt",
		"client_key": nil, "cipher_suites": "HIGH", "http_proxy": "http://proxy:1", "http_proxy_port": 3128.0, "from_file": false,
	}
	if !reflect.DeepEqual(h1, want) {
		t.Errorf("h1\n got %v\nwant %v", h1, want)
	}
	if !bytes.Contains(out, []byte("a=1&b=2")) {
		t.Errorf("HTML-escaped output: %s", out)
	}
}

func TestListconMaskURLPassword(t *testing.T) {
	for in, want := range map[string]string{
		"h/x":                   "h/x",
		"u@h/x":                 "u@h/x",
		"u:p@h/x":               "u:***@h/x",
		"u:p@q@h/x":             "u:***@h/x", // whichever '@' curl takes, nothing of p@q shows
		":p@h":                  ":***@h",
		"u:@h":                  "u:***@h",
		"h:80/x":                "h:80/x",
		"h:80/x@y":              "h:***@y", // over-masking a path is harmless
		"u:p%40ss@h:8080/a?b=1": "u:***@h:8080/a?b=1",
		"":                      "",
	} {
		if got := maskURLPassword(in); got != want {
			t.Errorf("maskURLPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestListconBadURLConnection lists the empty connection a bad config-file url leaves.
func TestListconBadURLConnection(t *testing.T) {
	c, err := loadINI("", "[bad]\nurl = nohost\n")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := c.ListconJSON()
	want := `{"connections":[{"name":"bad","schema":"","url":"","username":null,"password":null,"failover":null,"timeout":0,` +
		`"maxdatasize":0,"useragent":null,"httpredirect":0,"verify_peer":0,"verify_host":0,"tlsversion":0,"authmethod":0,` +
		`"keep_connections":0,"client_cert":null,"client_key":null,"cipher_suites":null,"http_proxy":null,"http_proxy_port":0,"from_file":true}]}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}
