//! `log_function`: the application replaces the access log line.

use std::cell::RefCell;
use std::rc::Rc;

use typhoon_web::{Application, route};

use crate::util::{get, run, serve};

#[test]
fn log_function_replaces_the_access_line() {
    run(async {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&lines);
        let app = Application::new(vec![route("/", || crate::Hello)]).log_function(move |record| {
            seen.borrow_mut().push((
                record.status,
                record.method.to_owned(),
                record.uri.to_owned(),
                record.remote_ip.to_owned(),
                record.to_string(),
            ));
        });
        let (_s, addr) = serve(app);
        assert_eq!(get(addr, "/?x=1").await.status, 200);
        assert_eq!(get(addr, "/nope").await.status, 404);
        let lines = lines.borrow();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let (status, method, uri, ip, line) = &lines[0];
        assert_eq!(
            (*status, method.as_str(), uri.as_str(), ip.as_str()),
            (200, "GET", "/?x=1", "127.0.0.1")
        );
        // Tornado's line: `200 GET /?x=1 (127.0.0.1) 0.42ms`.
        let ms = line
            .strip_prefix("200 GET /?x=1 (127.0.0.1) ")
            .and_then(|rest| rest.strip_suffix("ms"))
            .unwrap_or_else(|| panic!("{line}"));
        let (whole, fraction) = ms.split_once('.').unwrap_or_else(|| panic!("{line}"));
        assert!(
            whole.chars().all(|c| c.is_ascii_digit()) && fraction.len() == 2,
            "{line}"
        );
        assert_eq!(lines[1].0, 404);
    });
}
