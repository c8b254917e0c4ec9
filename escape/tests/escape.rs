//! Port of Tornado's `tornado/test/escape_test.py`, plus a comparison with outputs recorded from
//! Tornado itself (`fixtures/tornado_escape.json`, made by `fixtures/gen_fixture.py`).

use typhoon_escape::{
    EscapeError, ExtraParams, LinkifyParams, linkify, parse_qs_bytes, squeeze, url_escape,
    url_escape_bytes, url_unescape, url_unescape_bytes, xhtml_escape, xhtml_unescape,
};

fn protocols(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `linkify_tests` from escape_test.py: (input, params, expected).
fn linkify_tests() -> Vec<(&'static str, LinkifyParams, &'static str)> {
    let d = LinkifyParams::default;
    vec![
        (
            "hello http://world.com/!",
            d(),
            r#"hello <a href="http://world.com/">http://world.com/</a>!"#,
        ),
        (
            "hello http://world.com/with?param=true&stuff=yes",
            d(),
            r#"hello <a href="http://world.com/with?param=true&amp;stuff=yes">http://world.com/with?param=true&amp;stuff=yes</a>"#,
        ),
        (
            "http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            d(),
            r#"<a href="http://url.com/w">http://url.com/w</a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"#,
        ),
        (
            "http://url.com/withmany.......................................",
            d(),
            r#"<a href="http://url.com/withmany">http://url.com/withmany</a>......................................."#,
        ),
        (
            "http://url.com/withmany((((((((((((((((((((((((((((((((((a)",
            d(),
            r#"<a href="http://url.com/withmany">http://url.com/withmany</a>((((((((((((((((((((((((((((((((((a)"#,
        ),
        (
            "http://foo.com/blah_blah",
            d(),
            r#"<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>"#,
        ),
        (
            "http://foo.com/blah_blah/",
            d(),
            r#"<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>"#,
        ),
        (
            "(Something like http://foo.com/blah_blah)",
            d(),
            r#"(Something like <a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>)"#,
        ),
        (
            "http://foo.com/blah_blah_(wikipedia)",
            d(),
            r#"<a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>"#,
        ),
        (
            "http://foo.com/blah_(blah)_(wikipedia)_blah",
            d(),
            r#"<a href="http://foo.com/blah_(blah)_(wikipedia)_blah">http://foo.com/blah_(blah)_(wikipedia)_blah</a>"#,
        ),
        (
            "(Something like http://foo.com/blah_blah_(wikipedia))",
            d(),
            r#"(Something like <a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>)"#,
        ),
        (
            "http://foo.com/blah_blah.",
            d(),
            r#"<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>."#,
        ),
        (
            "http://foo.com/blah_blah/.",
            d(),
            r#"<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>."#,
        ),
        (
            "<http://foo.com/blah_blah>",
            d(),
            r#"&lt;<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>&gt;"#,
        ),
        (
            "<http://foo.com/blah_blah/>",
            d(),
            r#"&lt;<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>&gt;"#,
        ),
        (
            "http://foo.com/blah_blah,",
            d(),
            r#"<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>,"#,
        ),
        (
            "http://www.example.com/wpstyle/?p=364.",
            d(),
            r#"<a href="http://www.example.com/wpstyle/?p=364">http://www.example.com/wpstyle/?p=364</a>."#,
        ),
        (
            "rdar://1234",
            LinkifyParams {
                permitted_protocols: protocols(&["http", "rdar"]),
                ..d()
            },
            r#"<a href="rdar://1234">rdar://1234</a>"#,
        ),
        (
            "rdar:/1234",
            LinkifyParams {
                permitted_protocols: protocols(&["rdar"]),
                ..d()
            },
            r#"<a href="rdar:/1234">rdar:/1234</a>"#,
        ),
        (
            "http://userid:password@example.com:8080",
            d(),
            r#"<a href="http://userid:password@example.com:8080">http://userid:password@example.com:8080</a>"#,
        ),
        (
            "http://userid@example.com",
            d(),
            r#"<a href="http://userid@example.com">http://userid@example.com</a>"#,
        ),
        (
            "http://userid@example.com:8080",
            d(),
            r#"<a href="http://userid@example.com:8080">http://userid@example.com:8080</a>"#,
        ),
        (
            "http://userid:password@example.com",
            d(),
            r#"<a href="http://userid:password@example.com">http://userid:password@example.com</a>"#,
        ),
        (
            "message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e",
            LinkifyParams {
                permitted_protocols: protocols(&["http", "message"]),
                ..d()
            },
            concat!(
                r#"<a href="message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e">"#,
                "message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>"
            ),
        ),
        (
            "http://\u{27a1}.ws/\u{4a39}",
            d(),
            "<a href=\"http://\u{27a1}.ws/\u{4a39}\">http://\u{27a1}.ws/\u{4a39}</a>",
        ),
        (
            "<tag>http://example.com</tag>",
            d(),
            r#"&lt;tag&gt;<a href="http://example.com">http://example.com</a>&lt;/tag&gt;"#,
        ),
        (
            "Just a www.example.com link.",
            d(),
            r#"Just a <a href="http://www.example.com">www.example.com</a> link."#,
        ),
        (
            "Just a www.example.com link.",
            LinkifyParams {
                require_protocol: true,
                ..d()
            },
            "Just a www.example.com link.",
        ),
        (
            "A http://reallylong.com/link/that/exceedsthelenglimit.html",
            LinkifyParams {
                require_protocol: true,
                shorten: true,
                ..d()
            },
            concat!(
                r#"A <a href="http://reallylong.com/link/that/exceedsthelenglimit.html""#,
                r#" title="http://reallylong.com/link/that/exceedsthelenglimit.html">http://reallylong.com/link...</a>"#
            ),
        ),
        (
            "A http://reallylongdomainnamethatwillbetoolong.com/hi!",
            LinkifyParams {
                shorten: true,
                ..d()
            },
            concat!(
                r#"A <a href="http://reallylongdomainnamethatwillbetoolong.com/hi""#,
                r#" title="http://reallylongdomainnamethatwillbetoolong.com/hi">http://reallylongdomainnametha...</a>!"#
            ),
        ),
        (
            "A file:///passwords.txt and http://web.com link",
            d(),
            r#"A file:///passwords.txt and <a href="http://web.com">http://web.com</a> link"#,
        ),
        (
            "A file:///passwords.txt and http://web.com link",
            LinkifyParams {
                permitted_protocols: protocols(&["file"]),
                ..d()
            },
            r#"A <a href="file:///passwords.txt">file:///passwords.txt</a> and http://web.com link"#,
        ),
        (
            "www.external-link.com",
            LinkifyParams {
                extra_params: ExtraParams::Text(r#"rel="nofollow" class="external""#.into()),
                ..d()
            },
            r#"<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>"#,
        ),
        (
            "www.external-link.com and www.internal-link.com/blogs extra",
            LinkifyParams {
                extra_params: ExtraParams::Fn(Box::new(|href| {
                    if href.starts_with("http://www.internal-link.com") {
                        r#"class="internal""#.to_owned()
                    } else {
                        r#"rel="nofollow" class="external""#.to_owned()
                    }
                })),
                ..d()
            },
            concat!(
                r#"<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>"#,
                r#" and <a href="http://www.internal-link.com/blogs" class="internal">www.internal-link.com/blogs</a> extra"#
            ),
        ),
        (
            "www.external-link.com",
            LinkifyParams {
                extra_params: ExtraParams::Fn(Box::new(|_| {
                    r#"    rel="nofollow" class="external"  "#.to_owned()
                })),
                ..d()
            },
            r#"<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>"#,
        ),
    ]
}

#[test]
fn linkify_cases() {
    for (text, params, html) in linkify_tests() {
        assert_eq!(linkify(text, &params), html, "input {text:?}");
    }
}

#[test]
fn xhtml_escape_cases() {
    let tests = [
        ("<foo>", "&lt;foo&gt;"),
        ("<>&\"'", "&lt;&gt;&amp;&quot;&#x27;"),
        ("&amp;", "&amp;amp;"),
        ("<\u{e9}>", "&lt;\u{e9}&gt;"),
    ];
    for (unescaped, escaped) in tests {
        assert_eq!(xhtml_escape(unescaped), escaped);
        assert_eq!(unescaped, xhtml_unescape(escaped));
    }
}

#[test]
fn xhtml_unescape_numeric() {
    let tests = [
        ("foo&#32;bar", "foo bar"),
        ("foo&#x20;bar", "foo bar"),
        ("foo&#X20;bar", "foo bar"),
        ("foo&#xabc;bar", "foo\u{abc}bar"),
        ("foo&#xyz;bar", "foo&#xyz;bar"),
        ("foo&#;bar", "foo&#;bar"),
        ("foo&#x;bar", "foo&#x;bar"),
    ];
    for (escaped, unescaped) in tests {
        assert_eq!(unescaped, xhtml_unescape(escaped));
    }
}

#[test]
fn url_escape_unicode() {
    assert_eq!(url_escape_bytes("\u{e9}".as_bytes(), true), "%C3%A9");
    assert_eq!(url_escape_bytes(b"\xe9", true), "%E9");
    assert_eq!(url_escape("\u{e9}", true), "%C3%A9");
}

#[test]
fn url_unescape_unicode() {
    assert_eq!(url_unescape("%C3%A9", true), "\u{e9}");
    assert_eq!(url_unescape_bytes(b"%C3%A9", true), "\u{e9}".as_bytes());
}

#[test]
fn url_escape_quote_plus() {
    let unescaped = "+ #%";
    let plus_escaped = "%2B+%23%25";
    let escaped = "%2B%20%23%25";
    assert_eq!(url_escape(unescaped, true), plus_escaped);
    assert_eq!(url_escape(unescaped, false), escaped);
    assert_eq!(url_unescape(plus_escaped, true), unescaped);
    assert_eq!(url_unescape(escaped, false), unescaped);
    assert_eq!(
        url_unescape_bytes(plus_escaped.as_bytes(), true),
        unescaped.as_bytes()
    );
    assert_eq!(
        url_unescape_bytes(escaped.as_bytes(), false),
        unescaped.as_bytes()
    );
}

#[cfg(feature = "json")]
#[test]
fn json_decode() {
    use typhoon_escape::json_decode;
    assert_eq!(json_decode(b"\"foo\"").ok(), Some(serde_json::json!("foo")));
    assert_eq!(json_decode("\"foo\"").ok(), Some(serde_json::json!("foo")));
    assert_eq!(
        json_decode("\"\u{e9}\"".as_bytes()).ok(),
        Some(serde_json::json!("\u{e9}"))
    );
    assert!(matches!(json_decode("{"), Err(EscapeError::Json(_))));
}

#[cfg(feature = "json")]
#[test]
fn json_encode() {
    use typhoon_escape::{json_decode, json_encode};
    let encoded = json_encode("\u{e9}").unwrap_or_default();
    assert_eq!(encoded, r#""\u00e9""#);
    assert_eq!(
        json_decode(&encoded).ok(),
        Some(serde_json::json!("\u{e9}"))
    );
    assert_eq!(
        json_encode("</script>").unwrap_or_default(),
        r#""<\/script>""#
    );
}

#[test]
fn squeeze_cases() {
    assert_eq!(
        squeeze("sequences     of    whitespace   chars"),
        "sequences of whitespace chars"
    );
}

#[test]
fn unquote_to_bytes() {
    let cases: [(&[u8], &[u8]); 13] = [
        (b"", b""),
        (b"a=b", b"a=b"),
        (b"%41%3d%3D%25", b"A==%"),
        (b"%%41", b"%A"),
        (b"%%%", b"%%%"),
        (b"%zz%4", b"%zz%4"),
        (b"%", b"%"),
        (b"a%", b"a%"),
        (b"%\r\nb", b"%\r\nb"),
        (b"%\rb\nc", b"%\rb\nc"),
        (b"%\n", b"%\n"),
        (b"=%41=", b"=A="),
        (b"a \r\n%20\t", b"a \r\n \t"),
    ];
    for (input, expected) in cases {
        assert_eq!(url_unescape_bytes(input, false), expected);
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(url_unescape_bytes(&all, false), all);
}

#[test]
fn parse_qs_bytes_cases() {
    let args = parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", true, false, None).unwrap_or_default();
    assert_eq!(args.len(), 4);
    assert_eq!(args["a"], [b"1".to_vec(), b"2".to_vec()]);
    assert_eq!(args["b"], [b"A +".to_vec()]);
    assert_eq!(args["c"], [Vec::<u8>::new()]);
    assert_eq!(args["d"], [Vec::<u8>::new()]);
    let args = parse_qs_bytes(b"%E9=%E9", false, false, None).unwrap_or_default();
    assert_eq!(args["\u{e9}"], [b"\xe9".to_vec()]);
    assert!(parse_qs_bytes(b"c&d=", false, false, None).is_ok_and(|a| a.is_empty()));
    assert!(matches!(
        parse_qs_bytes(b"a=1&&b=2", false, true, None),
        Err(EscapeError::BadQueryField { .. })
    ));
    assert!(matches!(
        parse_qs_bytes(b"a=1&b=2", false, false, Some(1)),
        Err(EscapeError::TooManyFields { limit: 1 })
    ));
    assert!(parse_qs_bytes(b"a=1&b=2", false, false, Some(2)).is_ok());
}

// ---- the recorded corpus ----

const FIXTURE: &str = include_str!("fixtures/tornado_escape.json");

fn fixture() -> serde_json::Value {
    serde_json::from_str(FIXTURE).expect("fixture is valid JSON")
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().expect("fixture field is a string")
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unhex(h: &str) -> Vec<u8> {
    hex::decode(h).expect("fixture hex")
}

fn linkify_params(v: &serde_json::Value) -> LinkifyParams {
    let mut p = LinkifyParams::default();
    if let Some(b) = v.get("shorten").and_then(|b| b.as_bool()) {
        p.shorten = b;
    }
    if let Some(b) = v.get("require_protocol").and_then(|b| b.as_bool()) {
        p.require_protocol = b;
    }
    if let Some(e) = v.get("extra_params").and_then(|e| e.as_str()) {
        p.extra_params = ExtraParams::Text(e.to_owned());
    }
    if let Some(list) = v.get("permitted_protocols").and_then(|l| l.as_array()) {
        p.permitted_protocols = list.iter().map(|x| s(x).to_owned()).collect();
    }
    p
}

#[test]
fn fixture_strings_match_tornado() {
    let f = fixture();
    let params: Vec<LinkifyParams> = f["linkify_params"]
        .as_array()
        .expect("params")
        .iter()
        .map(linkify_params)
        .collect();
    let cases = f["strings"].as_array().expect("strings");
    assert!(cases.len() > 500);
    let mut checked = 0;
    for case in cases {
        let input = s(&case["input"]);
        assert_eq!(
            xhtml_escape(input),
            s(&case["xhtml_escape"]),
            "xhtml_escape {input:?}"
        );
        assert_eq!(
            xhtml_unescape(input),
            s(&case["xhtml_unescape"]),
            "xhtml_unescape {input:?}"
        );
        assert_eq!(
            url_escape(input, true),
            s(&case["url_escape_plus"]),
            "url_escape plus {input:?}"
        );
        assert_eq!(
            url_escape(input, false),
            s(&case["url_escape"]),
            "url_escape {input:?}"
        );
        assert_eq!(
            url_unescape(input, true),
            s(&case["url_unescape_plus"]),
            "url_unescape plus {input:?}"
        );
        assert_eq!(
            url_unescape(input, false),
            s(&case["url_unescape"]),
            "url_unescape {input:?}"
        );
        assert_eq!(
            hex(&url_unescape_bytes(input.as_bytes(), true)),
            s(&case["url_unescape_bytes_plus"]),
            "url_unescape_bytes plus {input:?}"
        );
        assert_eq!(
            hex(&url_unescape_bytes(input.as_bytes(), false)),
            s(&case["url_unescape_bytes"]),
            "url_unescape_bytes {input:?}"
        );
        assert_eq!(squeeze(input), s(&case["squeeze"]), "squeeze {input:?}");
        for (p, expected) in params
            .iter()
            .zip(case["linkify"].as_array().expect("linkify"))
        {
            assert_eq!(linkify(input, p), s(expected), "linkify {input:?} {p:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len());
}

#[test]
fn fixture_bytes_match_tornado() {
    let f = fixture();
    for case in f["bytes"].as_array().expect("bytes") {
        let input = unhex(s(&case["input"]));
        assert_eq!(url_escape_bytes(&input, true), s(&case["url_escape_plus"]));
        assert_eq!(url_escape_bytes(&input, false), s(&case["url_escape"]));
    }
}

#[test]
fn fixture_queries_match_tornado() {
    let f = fixture();
    for case in f["queries"].as_array().expect("queries") {
        let input = unhex(s(&case["input"]));
        for (keep, field) in [(true, "blank"), (false, "noblank")] {
            let got =
                parse_qs_bytes(&input, keep, false, None).expect("non-strict parse cannot fail");
            let got: serde_json::Map<String, serde_json::Value> = got
                .into_iter()
                .map(|(k, vs)| {
                    (
                        k,
                        vs.iter().map(|v| serde_json::Value::from(hex(v))).collect(),
                    )
                })
                .collect();
            assert_eq!(
                serde_json::Value::Object(got),
                case[field],
                "parse_qs_bytes {input:?} keep={keep}"
            );
        }
    }
}

#[cfg(feature = "json")]
#[test]
fn fixture_json_matches_tornado() {
    let f = fixture();
    let cases = f["json"].as_array().expect("json");
    assert!(cases.len() >= 300);
    for case in cases {
        let value: serde_json::Value = serde_json::from_str(s(&case["input"])).expect("input");
        let out = typhoon_escape::json_encode(&value).expect("encodable");
        assert_eq!(out, s(&case["output"]), "json_encode {}", s(&case["input"]));
    }
}

#[cfg(feature = "json")]
#[test]
fn fixture_floats_match_python_repr() {
    let f = fixture();
    let cases = f["floats"].as_array().expect("floats");
    assert!(cases.len() > 4000);
    for case in cases {
        let repr = s(case);
        let value: f64 = repr.parse().expect("float");
        assert_eq!(typhoon_escape::json_encode(&value).expect("finite"), repr);
    }
}
