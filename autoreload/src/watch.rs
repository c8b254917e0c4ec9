//! Noticing that a watched file changed: Tornado's mtime polling, with a debounce so that a
//! binary still being written is not executed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a file looked like when checked: its modification time and size, or nothing if it
/// was missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp(Option<(SystemTime, u64)>);

impl Stamp {
    /// The file at `path` now.
    pub(crate) fn of(path: &Path) -> Self {
        Self(
            std::fs::metadata(path)
                .ok()
                .and_then(|meta| Some((meta.modified().ok()?, meta.len()))),
        )
    }

    /// Whether there is a non-empty file.
    fn present(self) -> bool {
        self.0.is_some_and(|(_, len)| len > 0)
    }
}

/// One watched file: what it was when watching began, and what the last check saw.
#[derive(Debug)]
pub(crate) struct Watched {
    /// The file.
    pub(crate) path: PathBuf,
    /// When watching began.
    first: Stamp,
    /// At the last check.
    last: Stamp,
}

impl Watched {
    /// Starts watching `path` as it is now.
    pub(crate) fn new(path: PathBuf) -> Self {
        let stamp = Stamp::of(&path);
        Self {
            path,
            first: stamp,
            last: stamp,
        }
    }

    /// Checks the file against `now`: `true` once it differs from when watching began and
    /// has stayed the same since the previous check (a build is done writing it), and it is
    /// there (a file being replaced may be missing for a moment).
    pub(crate) fn changed(&mut self, now: Stamp) -> bool {
        let settled = now == self.last;
        self.last = now;
        settled && now != self.first && now.present()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stamp(secs: u64, len: u64) -> Stamp {
        Stamp(Some((
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            len,
        )))
    }

    #[test]
    fn a_change_counts_once_it_has_settled() {
        let mut watched = Watched {
            path: PathBuf::from("x"),
            first: stamp(1, 10),
            last: stamp(1, 10),
        };
        assert!(!watched.changed(stamp(1, 10)), "unchanged");
        assert!(!watched.changed(stamp(2, 5)), "still being written");
        assert!(!watched.changed(stamp(3, 20)), "still being written");
        assert!(watched.changed(stamp(3, 20)), "settled");
    }

    #[test]
    fn a_missing_or_empty_file_is_not_a_change_to_act_on() {
        let mut watched = Watched {
            path: PathBuf::from("x"),
            first: stamp(1, 10),
            last: stamp(1, 10),
        };
        assert!(!watched.changed(Stamp(None)));
        assert!(!watched.changed(Stamp(None)), "gone, and staying gone");
        assert!(!watched.changed(stamp(4, 0)));
        assert!(
            !watched.changed(stamp(4, 0)),
            "empty: the build has not written it yet"
        );
        assert!(!watched.changed(stamp(5, 7)));
        assert!(watched.changed(stamp(5, 7)));
    }

    #[test]
    fn stamps_of_real_files() {
        let dir = std::env::temp_dir().join(format!("typhoon-autoreload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("watched");
        assert_eq!(Stamp::of(&file), Stamp(None));
        std::fs::write(&file, b"one").expect("write");
        let mut watched = Watched::new(file.clone());
        assert!(!watched.changed(Stamp::of(&file)));
        std::fs::write(&file, b"longer").expect("write");
        assert!(
            !watched.changed(Stamp::of(&file)),
            "first sight of the change"
        );
        assert!(
            watched.changed(Stamp::of(&file)),
            "the same on the next check"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
