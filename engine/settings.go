// This file owns the settings text behind hc_init: one "name = value" item per line,
// Kamailio http_client's modparams plus the library's own settings, applied in order
// with Kamailio's order rule (an httpcon copies the modparams set before it), followed
// by what Kamailio 5.6.3's mod_init does at startup, in its order: the tlsversion range
// check, the config_file load, then the connection_timeout 0 -> 4 rewrite.
// Spec: kamailio_http_client.md §0, §1, §13.

package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseSettings parses the hc_init settings text into a Config: every connection built,
// every modparam at its final value, and the non-fatal findings in Config.Warnings.
// Errors name the settings line (or the config_file line and column) and the reason; a
// configuration Kamailio 5.6.3 refuses to start with is an error here too.
//
// Format: one item per line, split at the first '='; the name and the value are trimmed
// of spaces and tabs, so values cannot begin or end with blanks. Blank lines and lines
// whose first non-blank character is '#' are ignored; CRLF line ends are accepted.
// STRING values are taken as they are, without quotes or escapes ("useragent =" sets
// an empty user agent, which sends no User-Agent header).
func ParseSettings(text string) (*Config, error) {
	return parseSettings(text, readConfigFile)
}

// parseSettings is ParseSettings with the config_file reader as a parameter, so tests and
// fuzzing do not depend on the file system.
func parseSettings(text string, readFile func(string) ([]byte, error)) (*Config, error) {
	p := &settingsParser{
		cfg: &Config{
			Defaults:    DefaultDefaults(),
			QueryResult: DefaultQueryResult,
			GoMaxProcs:  DefaultGoMaxProcs,
			MaxBodySize: DefaultMaxBodySize,
		},
		conLines:  make(map[string]int),
		poolLines: make(map[string]int),
	}
	lineNo := 0
	for rest := text; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		lineNo++
		if err := p.line(lineNo, strings.TrimSuffix(line, "\r")); err != nil {
			return nil, err
		}
	}
	if err := p.modInit(readFile); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// settingsParser is the state of one ParseSettings call.
type settingsParser struct {
	cfg            *Config
	conLines       map[string]int // httpcon name -> settings line, for duplicate errors
	poolLines      map[string]int // pool id -> settings line
	configFileLine int            // the line of the config_file that counts (the last)
}

func (p *settingsParser) line(n int, line string) error {
	if i := strings.IndexByte(line, 0); i >= 0 {
		// hc_init gets a C string: a NUL cannot come from there, and would cut a value.
		return fmt.Errorf("line %d: NUL byte at column %d", n, i+1)
	}
	item := strings.Trim(line, " \t")
	if item == "" || item[0] == '#' {
		return nil
	}
	name, value, ok := strings.Cut(item, "=")
	if !ok {
		return fmt.Errorf("line %d: %s is not a \"name = value\" item (no '=')", n, quoted(maskUserinfo(item), 40))
	}
	name = strings.Trim(name, " \t")
	value = strings.Trim(value, " \t")
	if name == "" {
		return fmt.Errorf("line %d: setting name missing before '='", n)
	}
	if err := p.apply(n, name, value); err != nil {
		return fmt.Errorf("line %d: %s: %w", n, clip(name, 32), err)
	}
	return nil
}

// apply sets one item. INT modparams must be signed decimal int32 values (Kamailio stores
// them in C ints); STRING modparams take the value verbatim.
func (p *settingsParser) apply(n int, name, value string) error {
	c := p.cfg
	d := &c.Defaults
	var intDst *int
	switch name {
	// INT modparams.
	case "httpredirect":
		intDst = &d.HTTPRedirect
	case "maxdatasize":
		intDst = &d.MaxDataSize
	case "connection_timeout":
		intDst = &d.ConnectionTimeout
	case "verify_peer":
		intDst = &d.VerifyPeer
	case "verify_host":
		intDst = &d.VerifyHost
	case "tlsversion":
		intDst = &d.TLSVersion
	case "authmethod":
		intDst = &d.AuthMethod
	case "httpproxyport":
		intDst = &d.HTTPProxyPort
	case "keep_connections":
		intDst = &d.KeepConnections
	case "query_result":
		intDst = &c.QueryResult
	case "query_maxdatasize":
		intDst = &c.QueryMaxDataSize

	// STRING modparams.
	case "useragent":
		d.UserAgent = Some(value)
	case "client_cert":
		d.ClientCert = Some(value)
	case "client_key":
		d.ClientKey = Some(value)
	case "cipher_suites":
		d.CipherSuites = Some(value)
	case "httpproxy":
		d.HTTPProxy = Some(value)
	case "cacert":
		c.CACert = Some(value)
	case "netinterface":
		c.NetInterface = Some(value)
	case "config_file":
		c.ConfigFile = Some(value) // the last one wins; it is read after all items
		p.configFileLine = n
	case "httpcon":
		return p.httpcon(n, value)

	// Library settings.
	case "crash_log":
		c.CrashLog = value
	case "gomaxprocs":
		v, err := parseNonNegative(value)
		if err != nil {
			return err
		}
		c.GoMaxProcs = int(v)
	case "memory_limit":
		v, err := parseMemoryLimit(value)
		if err != nil {
			return err
		}
		c.MemoryLimit = v
	case "max_body_size":
		v, err := parseMemoryLimit(value)
		if err != nil {
			return err
		}
		c.MaxBodySize = v
	case "background_loop":
		on, err := parseSwitch(value)
		if err != nil {
			return err
		}
		c.NoBackgroundLoop = !on
	case "proxy_from_environment":
		on, err := parseSwitch(value)
		if err != nil {
			return err
		}
		c.ProxyFromEnv = on
	case "pool":
		return p.pool(n, value)

	default:
		return fmt.Errorf("unknown setting%s", settingHint(name))
	}
	if intDst != nil {
		v, err := strconv.ParseInt(value, 10, 32)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return fmt.Errorf("%s is out of range (a 32-bit integer is expected)", quoted(value, 32))
			}
			return fmt.Errorf("%s is not an integer (signed decimal expected)", quoted(value, 32))
		}
		*intDst = int(v)
	}
	return nil
}

// settingHint helps with the names Kamailio's documentation or later versions use.
func settingHint(name string) string {
	switch name {
	case "http_proxy":
		return ` (the name is "httpproxy")`
	case "http_proxy_port":
		return ` (the name is "httpproxyport")`
	case "http_follow_redirect":
		return ` (the name is "httpredirect")`
	case "keepconnections":
		return ` (the modparam is "keep_connections"; "keepconnections" is the config_file key)`
	case "timeout_mode", "response_headers":
		return " (not in Kamailio 5.6.3)"
	}
	return ""
}

// httpcon defines a connection from the modparams as they are at this line.
func (p *settingsParser) httpcon(n int, value string) error {
	c := p.cfg
	cc, warnings, err := ParseHTTPCon(value, c.Defaults)
	if err != nil {
		return err
	}
	if first, dup := p.conLines[cc.Name]; dup {
		// curl_init_con: "duplicate Curl connection name", fatal for a modparam.
		return fmt.Errorf("duplicate connection name %s (first defined on line %d)", quoted(cc.Name, 40), first)
	}
	p.conLines[cc.Name] = n
	c.Connections = append(c.Connections, cc)
	for _, w := range warnings {
		c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s", n, w))
	}
	return nil
}

// pool adds a background pool: {"id": "name", "max_total": N, "max_host": N, "queue": N}.
func (p *settingsParser) pool(n int, value string) error {
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	var pc PoolConfig
	if err := dec.Decode(&pc); err != nil {
		return fmt.Errorf("invalid JSON object: %s", clip(err.Error(), 100))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON object: unexpected data after the object")
	}
	if pc.ID == "" {
		return errors.New(`Missing ID in configuration ("id" is required)`)
	}
	switch {
	case pc.MaxTotal < 0:
		return fmt.Errorf("pool %s: max_total must not be negative", quoted(pc.ID, 40))
	case pc.MaxHost < 0:
		return fmt.Errorf("pool %s: max_host must not be negative", quoted(pc.ID, 40))
	case pc.Queue < 0:
		return fmt.Errorf("pool %s: queue must not be negative", quoted(pc.ID, 40))
	}
	if first, dup := p.poolLines[pc.ID]; dup {
		return fmt.Errorf("duplicate pool id %s (first defined on line %d)", quoted(pc.ID, 40), first)
	}
	p.poolLines[pc.ID] = n
	p.cfg.Pools = append(p.cfg.Pools, pc)
	return nil
}

// modInit does what Kamailio 5.6.3's mod_init does with the parsed modparams, in its
// order. Connections made so far keep the raw values they copied.
func (p *settingsParser) modInit(readFile func(string) ([]byte, error)) error {
	c := p.cfg
	// The "connections" counter is taken before the config file is loaded.
	c.HTTPConCount = len(c.Connections)

	// default_tls_version is unsigned: a negative value is out of range too.
	if uint32(c.Defaults.TLSVersion) >= SSLVersionLast {
		c.Warnings = append(c.Warnings, fmt.Sprintf("tlsversion %d unsupported, using the libcurl default (0) for queries and config_file connections; httpcon connections defined before keep %d",
			c.Defaults.TLSVersion, c.Defaults.TLSVersion))
		c.Defaults.TLSVersion = 0
	}

	if c.ConfigFile.Set {
		if err := c.loadConfigFile(c.ConfigFile.Value, readFile); err != nil {
			return fmt.Errorf("line %d: config_file: %w", p.configFileLine, err)
		}
	}

	// After the file's connections copied it: they keep 0, which means no timeout.
	if c.Defaults.ConnectionTimeout == 0 {
		c.Warnings = append(c.Warnings, "connection_timeout 0: queries use 4 s; connections that copied 0 have no timeout")
		c.Defaults.ConnectionTimeout = DefaultConnectionTimeout
	}
	return checkConfig(c)
}

// parseNonNegative parses a decimal integer >= 0.
func parseNonNegative(value string) (int64, error) {
	v, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is out of range", quoted(value, 32))
		}
		return 0, fmt.Errorf("%s is not an integer", quoted(value, 32))
	}
	if v < 0 {
		return 0, fmt.Errorf("%d must not be negative", v)
	}
	return v, nil
}

// parseMemoryLimit parses a byte count with an optional KiB, MiB or GiB suffix.
func parseMemoryLimit(value string) (int64, error) {
	num, mult := value, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if s, ok := strings.CutSuffix(value, u.suffix); ok {
			num, mult = strings.TrimRight(s, " \t"), u.mult
			break
		}
	}
	v, err := parseNonNegative(num)
	if err != nil {
		return 0, fmt.Errorf("%w (bytes, optionally with a KiB, MiB or GiB suffix)", err)
	}
	if v > (1<<63-1)/mult {
		return 0, fmt.Errorf("%s is out of range", quoted(value, 32))
	}
	return v * mult, nil
}

// parseSwitch reads a 0/1 setting.
func parseSwitch(value string) (bool, error) {
	switch value {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%s must be 0 or 1", quoted(value, 32))
}
