//! Rotation by size and by time (on an injected clock: no sleeping).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Weekday};
use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("typhoon-options-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|day| day.and_hms_opt(h, min, s))
        .expect("valid date")
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<NaiveDateTime>>);

impl TestClock {
    fn new(now: NaiveDateTime) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }
    fn set(&self, now: NaiveDateTime) {
        *self.0.lock().expect("lock") = now;
    }
    fn boxed(&self) -> Clock {
        let clock = self.clone();
        Box::new(move || *clock.0.lock().expect("lock"))
    }
}

fn write_line(file: &RotatingFile, line: &str) {
    file.make_writer()
        .write_all(line.as_bytes())
        .expect("write");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[test]
fn when_parses_as_python() {
    assert_eq!(RotateWhen::parse("s"), Ok(RotateWhen::Seconds));
    assert_eq!(RotateWhen::parse("M"), Ok(RotateWhen::Minutes));
    assert_eq!(RotateWhen::parse("h"), Ok(RotateWhen::Hours));
    assert_eq!(RotateWhen::parse("D"), Ok(RotateWhen::Days));
    assert_eq!(RotateWhen::parse("midnight"), Ok(RotateWhen::Midnight));
    assert_eq!(
        RotateWhen::parse("W0"),
        Ok(RotateWhen::Weekday(Weekday::Mon))
    );
    assert_eq!(
        RotateWhen::parse("w6"),
        Ok(RotateWhen::Weekday(Weekday::Sun))
    );
    for bad in ["W7", "W", "X", "week", ""] {
        assert!(RotateWhen::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(RotateWhen::Weekday(Weekday::Wed).as_str(), "W2");
    assert_eq!(LogRotateMode::parse("TIME"), Ok(LogRotateMode::Time));
    assert!(LogRotateMode::parse("hourly").is_err());
}

#[test]
fn next_rollover_as_compute_rollover() {
    // 2026-12-03 is a Thursday.
    let now = at(2026, 12, 3, 14, 30, 15);
    assert_eq!(
        RotateWhen::Seconds.next_rollover(now, 10),
        at(2026, 12, 3, 14, 30, 25)
    );
    assert_eq!(
        RotateWhen::Minutes.next_rollover(now, 2),
        at(2026, 12, 3, 14, 32, 15)
    );
    assert_eq!(
        RotateWhen::Hours.next_rollover(now, 1),
        at(2026, 12, 3, 15, 30, 15)
    );
    assert_eq!(
        RotateWhen::Days.next_rollover(now, 3),
        at(2026, 12, 6, 14, 30, 15)
    );
    assert_eq!(
        RotateWhen::Midnight.next_rollover(now, 1),
        at(2026, 12, 4, 0, 0, 0)
    );
    // Python: the next midnight plus the days until the weekday, 0 on that very day.
    let thursday = RotateWhen::Weekday(Weekday::Thu);
    assert_eq!(thursday.next_rollover(now, 1), at(2026, 12, 4, 0, 0, 0));
    let monday = RotateWhen::Weekday(Weekday::Mon);
    assert_eq!(monday.next_rollover(now, 1), at(2026, 12, 8, 0, 0, 0));
    let wednesday = RotateWhen::Weekday(Weekday::Wed);
    assert_eq!(wednesday.next_rollover(now, 1), at(2026, 12, 10, 0, 0, 0));
}

#[test]
fn rotating_file_rotates_at_midnight() {
    let dir = temp_dir("rotate-midnight");
    let path = dir.join("app.log");
    let clock = TestClock::new(at(2026, 12, 3, 23, 59, 0));
    let rotation = Rotation::Time {
        when: RotateWhen::Midnight,
        interval: 1,
    };
    let file = RotatingFile::open_with_clock(&path, rotation, 2, clock.boxed()).expect("open");
    write_line(&file, "thursday\n");
    clock.set(at(2026, 12, 3, 23, 59, 59));
    write_line(&file, "still thursday\n");
    assert_eq!(names(&dir), ["app.log"]);
    clock.set(at(2026, 12, 4, 0, 0, 1));
    write_line(&file, "friday\n");
    assert_eq!(read(&path), "friday\n");
    assert_eq!(
        read(&dir.join("app.log.2026-12-03")),
        "thursday\nstill thursday\n"
    );
    // Two days later: one rollover (named after the period that started at the last one).
    clock.set(at(2026, 12, 6, 12, 0, 0));
    write_line(&file, "sunday\n");
    assert_eq!(read(&dir.join("app.log.2026-12-04")), "friday\n");
    clock.set(at(2026, 12, 7, 0, 0, 0));
    write_line(&file, "monday\n");
    // Three rotated files made, two kept: the oldest is gone.
    assert_eq!(
        names(&dir),
        ["app.log", "app.log.2026-12-04", "app.log.2026-12-06"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rotating_file_rotates_every_interval_seconds() {
    let dir = temp_dir("rotate-seconds");
    let path = dir.join("app.log");
    let start = at(2026, 12, 3, 10, 0, 0);
    let clock = TestClock::new(start);
    let rotation = Rotation::Time {
        when: RotateWhen::Seconds,
        interval: 30,
    };
    // No backups limit: every rotated file is kept. As Python's, the next rollover is an
    // interval after the one just done (at the write's time), so periods start at :31, :01.
    let file = RotatingFile::open_with_clock(&path, rotation, 0, clock.boxed()).expect("open");
    for step in 0..4 {
        clock.set(start + TimeDelta::seconds(step * 30 + 1));
        write_line(&file, &format!("{step}\n"));
    }
    assert_eq!(
        names(&dir),
        [
            "app.log",
            "app.log.2026-12-03_10-00-00",
            "app.log.2026-12-03_10-00-31",
            "app.log.2026-12-03_10-01-01",
        ]
    );
    assert_eq!(read(&dir.join("app.log.2026-12-03_10-00-31")), "1\n");
    assert_eq!(read(&path), "3\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stamp_shape_as_ext_match() {
    let sample = "1970-01-01";
    assert!(stamp_matches("2026-12-03", sample));
    assert!(!stamp_matches("2026-12-3", sample));
    assert!(!stamp_matches("2026-12-03.gz", sample));
    assert!(!stamp_matches("1", sample));
}

#[test]
fn rotating_file_rotates_by_size() {
    let dir = std::env::temp_dir().join(format!("typhoon-options-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("app.log");
    for p in [
        path.clone(),
        numbered(&path, 1),
        numbered(&path, 2),
        numbered(&path, 3),
    ] {
        let _ = std::fs::remove_file(p);
    }
    let file = RotatingFile::open(&path, Rotation::Size(10), 2).expect("open");
    for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n", "dddddddd\n"] {
        file.make_writer()
            .write_all(line.as_bytes())
            .expect("write");
    }
    let read = |p: &Path| std::fs::read_to_string(p).expect("read");
    assert_eq!(read(&path), "dddddddd\n");
    assert_eq!(read(&numbered(&path, 1)), "cccccccc\n");
    assert_eq!(read(&numbered(&path, 2)), "bbbbbbbb\n");
    assert!(!numbered(&path, 3).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_batch_rotates_at_the_same_lines_as_single_writes() {
    let dir = temp_dir("rotate-batch");
    let path = dir.join("app.log");
    let file = RotatingFile::open(&path, Rotation::Size(20), 3).expect("open");
    // Six 9-byte lines in two batches: a rollover is due before every third line.
    file.write_lines(b"aaaaaaaa\nbbbbbbbb\ncccccccc\n")
        .expect("write");
    file.write_lines(b"dddddddd\neeeeeeee\nffffffff\n")
        .expect("write");
    assert_eq!(read(&numbered(&path, 2)), "aaaaaaaa\nbbbbbbbb\n");
    assert_eq!(read(&numbered(&path, 1)), "cccccccc\ndddddddd\n");
    assert_eq!(read(&path), "eeeeeeee\nffffffff\n");
    let _ = std::fs::remove_dir_all(&dir);
}
