"""Configuration cases for hc_init, run both through the ctypes binding and from C.

Each case is (id, settings, ini, expect):
  settings  the hc_init text; "{INI}" is replaced by the path of the case's INI file
  ini       the config_file text, or None
  expect    ("error", [substrings of the message]) for a configuration Kamailio 5.6.3 refuses
            (or crashes on), or ("ok", {connection name: {listcon field: value}})

The first six errors are the oracle's config_error scenarios (shared/oracle).
"""

H = "127.0.0.1:28080"

CASES = [
    # -- Kamailio 5.6.3 does not start (recorded by the oracle) --
    ("httpcon_duplicate_name",
     "httpcon = c1=>http://%s/one\nhttpcon = c1=>http://%s/two\n" % (H, H), None,
     ("error", ["line 2", "duplicate"])),
    ("httpcon_missing_scheme", "httpcon = c1=>%s/api\n" % H, None, ("error", ["line 1"])),
    ("httpcon_space_before_gt", "httpcon = c1 = > http://%s/api\n" % H, None, ("error", ["line 1"])),
    ("config_file_doc_key_http_follow_redirect", "config_file = {INI}\n",
     "[c1]\nurl = http://%s/api\nhttp_follow_redirect = yes\n" % H, ("error", ["http_follow_redirect"])),
    ("config_file_doc_key_keep_connections", "config_file = {INI}\n",
     "[c1]\nurl = http://%s/api\nkeep_connections = 1\n" % H, ("error", ["keep_connections"])),
    ("config_file_tlsversion_numeric", "config_file = {INI}\n",
     "[c1]\nurl = https://%s/api\ntlsversion = 6\n" % H, ("error", ["tlsversion"])),
    # -- more refusals of the same kinds (spec sections 2 and 3) --
    ("httpcon_trailing_semicolon_param_missing", "httpcon = c1=>http://%s/api;timeout=1;;\n" % H, None,
     ("error", ["line 1"])),
    ("httpcon_empty_value_in_middle", "httpcon = c1=>http://%s/api;timeout=;maxdatasize=1\n" % H, None,
     ("error", ["line 1"])),
    ("config_file_missing", "config_file = /nonexistent/hc.ini\n", None, ("error", ["/nonexistent/hc.ini"])),
    ("config_file_section_without_url", "config_file = {INI}\n", "[c1]\ntimeout = 2\n", ("error", ["url"])),
    ("config_file_unknown_key", "config_file = {INI}\n", "[c1]\nurl = http://%s/\nbogus = 1\n" % H,
     ("error", ["bogus"])),
    ("config_file_key_before_section", "config_file = {INI}\n", "url = http://%s/\n[c1]\n" % H,
     ("error", ["url"])),
    ("config_file_bad_int", "config_file = {INI}\n", "[c1]\nurl = http://%s/\ntimeout = soon\n" % H,
     ("error", ["timeout"])),
    ("config_file_bad_section_name", "config_file = {INI}\n", "[c-1]\nurl = http://%s/\n" % H,
     ("error", ["hc.ini:1:3", "section name"])),
    ("unknown_setting", "# comment\n\nhttp_proxy = x\n", None, ("error", ["line 3", "http_proxy"])),
    ("int_setting_not_a_number", "connection_timeout = 4s\n", None, ("error", ["line 1", "connection_timeout"])),
    ("line_without_equals", "httpredirect\n", None, ("error", ["line 1"])),
    ("gomaxprocs_negative", "gomaxprocs = -1\n", None, ("error", ["line 1", "gomaxprocs"])),
    ("memory_limit_garbage", "memory_limit = lots\n", None, ("error", ["line 1", "memory_limit"])),
    ("pool_missing_id", 'pool = {"max_total": 4}\n', None, ("error", ["Missing ID in configuration"])),
    ("pool_duplicate_id", 'pool = {"id": "p"}\npool = {"id": "p"}\n', None, ("error", ["line 2", "p"])),
    ("pool_negative", 'pool = {"id": "p", "max_host": -1}\n', None, ("error", ["max_host"])),
    # -- accepted, with Kamailio's effective values --
    ("order_verify_peer_before", "verify_peer = 0\nhttpcon = c1=>https://%s/\n" % H, None,
     ("ok", {"c1": {"verify_peer": 0}})),
    ("order_verify_peer_after", "httpcon = c1=>https://%s/\nverify_peer = 0\n" % H, None,
     ("ok", {"c1": {"verify_peer": 1}})),
    ("order_timeout_after_httpcon", "httpcon = c1=>http://%s/\nconnection_timeout = 9\n" % H, None,
     ("ok", {"c1": {"timeout": 4}})),
    ("order_config_file_takes_final_values",
     "config_file = {INI}\nhttpcon = c2=>http://%s/\nuseragent = Late/1\nmaxdatasize = 3\n" % H,
     "[c1]\nurl = http://%s/api\n" % H,
     ("ok", {"c1": {"useragent": "Late/1", "maxdatasize": 3},
             "c2": {"useragent": "kamailio (5.6.3 (x86_64/linux))", "maxdatasize": 0}})),
    ("httpcon_params", "httpcon = c1=>http://u:p%%40ss@%s/api;timeout=7;useragent=\"A B\";failover=c9\n" % H,
     None, ("ok", {"c1": {"timeout": 7, "useragent": "A B", "failover": "c9", "username": "u",
                          "url": H + "/api"}})),
    ("httpcon_comma_stops_params", "httpcon = c1=>http://%s/api;useragent=UA1,x;maxdatasize=3\n" % H, None,
     ("ok", {"c1": {"useragent": "UA1", "maxdatasize": 0}})),
    ("httpcon_first_duplicate_param_wins", "httpcon = c1=>http://%s/;useragent=First;useragent=Second\n" % H,
     None, ("ok", {"c1": {"useragent": "First"}})),
    ("httpcon_unknown_param_ignored", "httpcon = c1=>http://%s/;bogus=1\n" % H, None, ("ok", {"c1": {}})),
    ("config_file_values", "config_file = {INI}\n",
     "# comment\n[c1]\nurl = http://%s/api\ntimeout = 2\nhttpredirect = yes\nkeepconnections = 1\n"
     "tlsversion = TLSv1.2\nuseragent = \"\"\n" % H,
     ("ok", {"c1": {"timeout": 2, "httpredirect": 1, "keep_connections": 1, "tlsversion": 6,
                    "useragent": ""}})),
    ("empty_settings", "", None, ("ok", {})),
]
