//! The log file of `--log-file-prefix`, rotated by size (Python's `RotatingFileHandler`) or by
//! time (`TimedRotatingFileHandler`), as Tornado's `--log-rotate-mode` chooses.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{Datelike, Local, NaiveDateTime, TimeDelta, Weekday};
use tracing_subscriber::fmt::MakeWriter;

use crate::error::{OptionsError, Result};
use crate::line_batch::LineSink;
use crate::types::{OptionType, Value};

/// The value of `--log-rotate-mode` (Tornado's `log_rotate_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogRotateMode {
    /// `size` (the default): rotate when the file would reach `--log-file-max-size`.
    Size,
    /// `time`: rotate every `--log-rotate-interval` units of `--log-rotate-when`.
    Time,
}

impl OptionType for LogRotateMode {
    fn type_name() -> Cow<'static, str> {
        "log rotate mode (size|time)".into()
    }

    fn parse(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "size" => Ok(Self::Size),
            "time" => Ok(Self::Time),
            _ => Err("should be 'size' or 'time'".into()),
        }
    }

    fn to_value(&self) -> Value {
        Value::Str(match self {
            Self::Size => "size".to_owned(),
            Self::Time => "time".to_owned(),
        })
    }
}

/// The value of `--log-rotate-when` (Tornado's `log_rotate_when`, Python's
/// `TimedRotatingFileHandler` `when`), case-insensitive: `S`, `M`, `H`, `D`, `midnight`
/// (the default) or `W0`-`W6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateWhen {
    /// `S`: every `interval` seconds.
    Seconds,
    /// `M`: every `interval` minutes.
    Minutes,
    /// `H`: every `interval` hours.
    Hours,
    /// `D`: every `interval` days (counted from when the file was opened, not midnight).
    Days,
    /// `midnight`: at each local midnight.
    Midnight,
    /// `W0` (Monday) to `W6` (Sunday): at the local midnight that ends that weekday, as
    /// Python computes it.
    Weekday(Weekday),
}

impl RotateWhen {
    /// Python's name for it (`S`, `M`, `H`, `D`, `MIDNIGHT`, `W0`-`W6`).
    pub fn as_str(self) -> &'static str {
        const DAYS: [&str; 7] = ["W0", "W1", "W2", "W3", "W4", "W5", "W6"];
        match self {
            Self::Seconds => "S",
            Self::Minutes => "M",
            Self::Hours => "H",
            Self::Days => "D",
            Self::Midnight => "MIDNIGHT",
            Self::Weekday(day) => DAYS[day.num_days_from_monday() as usize],
        }
    }

    /// The `strftime` suffix of rotated files' names (Python's `suffix`).
    fn suffix(self) -> &'static str {
        match self {
            Self::Seconds => "%Y-%m-%d_%H-%M-%S",
            Self::Minutes => "%Y-%m-%d_%H-%M",
            Self::Hours => "%Y-%m-%d_%H",
            Self::Days | Self::Midnight | Self::Weekday(_) => "%Y-%m-%d",
        }
    }

    /// The length of `interval` periods (Python's `self.interval`).
    fn period(self, interval: u32) -> TimeDelta {
        let n = i64::from(interval.max(1));
        match self {
            Self::Seconds => TimeDelta::seconds(n),
            Self::Minutes => TimeDelta::minutes(n),
            Self::Hours => TimeDelta::hours(n),
            Self::Days | Self::Midnight => TimeDelta::days(n),
            Self::Weekday(_) => TimeDelta::weeks(n),
        }
    }

    /// The first rollover after `now` (Python's `computeRollover`): `now` plus the period,
    /// or, for `midnight` and `W*`, the next local midnight (plus the days until the
    /// weekday ends).
    fn next_rollover(self, now: NaiveDateTime, interval: u32) -> NaiveDateTime {
        let next_midnight = || {
            now.date()
                .succ_opt()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .unwrap_or(NaiveDateTime::MAX)
        };
        match self {
            Self::Midnight => next_midnight(),
            Self::Weekday(day) => {
                let today = now.weekday().num_days_from_monday();
                let wait = (day.num_days_from_monday() + 7 - today) % 7;
                next_midnight() + TimeDelta::days(i64::from(wait))
            }
            _ => now + self.period(interval),
        }
    }
}

impl OptionType for RotateWhen {
    fn type_name() -> Cow<'static, str> {
        "log rotate when (S|M|H|D|midnight|W0-W6)".into()
    }

    fn parse(s: &str) -> std::result::Result<Self, String> {
        let upper = s.trim().to_ascii_uppercase();
        Ok(match upper.as_str() {
            "S" => Self::Seconds,
            "M" => Self::Minutes,
            "H" => Self::Hours,
            "D" => Self::Days,
            "MIDNIGHT" => Self::Midnight,
            _ => {
                let day = upper
                    .strip_prefix('W')
                    .and_then(|d| d.parse::<u8>().ok())
                    .and_then(|d| Weekday::try_from(d).ok())
                    .ok_or("should be S, M, H, D, midnight or W0-W6 (0 is Monday)")?;
                Self::Weekday(day)
            }
        })
    }

    fn to_value(&self) -> Value {
        Value::Str(self.as_str().to_owned())
    }
}

/// When a [`RotatingFile`] rolls over.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rotation {
    /// By size: when a write would reach this many bytes (no rotation if 0).
    Size(u64),
    /// By time: every `interval` units of `when`.
    Time {
        /// The unit.
        when: RotateWhen,
        /// How many units.
        interval: u32,
    },
}

/// The clock a time-rotated file reads (local time); tests inject their own.
type Clock = Box<dyn Fn() -> NaiveDateTime + Send + Sync>;

/// The log file of `--log-file-prefix`. By size, as Python's `RotatingFileHandler`: when a
/// write would reach `max_size`, `path.N` becomes `path.N+1` (up to `backups`), `path`
/// becomes `path.1`, and a new `path` is started (no rotation if either is zero). By time, as
/// `TimedRotatingFileHandler`: at each rollover `path` becomes `path.<period start>`
/// (`path.2026-12-03` for days), and past `backups` such files the oldest are deleted (all
/// kept if `backups` is zero).
pub(super) struct RotatingFile {
    /// The file and its rotation state, locked per event so lines never interleave.
    state: Mutex<FileState>,
}

impl std::fmt::Debug for RotatingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingFile").finish_non_exhaustive()
    }
}

/// A [`RotatingFile`]'s state.
struct FileState {
    /// The log file's path (rotated files are named after it).
    path: PathBuf,
    /// The open file.
    file: File,
    /// Bytes in the current file, to decide size rotation without a stat per line.
    size: u64,
    /// How many rotated files to keep.
    backups: u32,
    /// Size or time.
    rotation: Rotation,
    /// For time rotation: when the next rollover is due.
    rollover_at: NaiveDateTime,
    /// For time rotation: the time now.
    clock: Clock,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

pub(super) fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotatingFile {
    /// Opens `path` for appending, rotated as `rotation` says, on the local clock.
    ///
    /// # Errors
    ///
    /// [`OptionsError::LogFile`] if the file cannot be opened.
    pub(super) fn open(path: &Path, rotation: Rotation, backups: u32) -> Result<Self> {
        Self::open_with_clock(
            path,
            rotation,
            backups,
            Box::new(|| Local::now().naive_local()),
        )
    }

    /// [`open`](Self::open) with the clock `clock`.
    fn open_with_clock(
        path: &Path,
        rotation: Rotation,
        backups: u32,
        clock: Clock,
    ) -> Result<Self> {
        let log_file_error = |source| OptionsError::LogFile {
            path: path.to_owned(),
            source,
        };
        // Python starts the first period at the file's modification time, if it exists.
        let modified = std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
            .map(|time| chrono::DateTime::<Local>::from(time).naive_local());
        let opened = open_append(path).and_then(|file| Ok((file.metadata()?.len(), file)));
        let (size, file) = opened.map_err(log_file_error)?;
        let rollover_at = match rotation {
            Rotation::Size(_) => NaiveDateTime::MAX,
            Rotation::Time { when, interval } => {
                when.next_rollover(modified.unwrap_or_else(&clock), interval)
            }
        };
        Ok(Self {
            state: Mutex::new(FileState {
                path: path.to_owned(),
                file,
                size,
                backups,
                rotation,
                rollover_at,
                clock,
            }),
        })
    }
}

impl FileState {
    /// Whether writing `len` more bytes needs a rollover first.
    fn should_rotate(&self, len: u64) -> Option<NaiveDateTime> {
        match self.rotation {
            Rotation::Size(max_size) => (max_size > 0
                && self.backups > 0
                && self.size > 0
                && self.size.saturating_add(len) >= max_size)
                .then_some(self.rollover_at),
            Rotation::Time { .. } => {
                let now = (self.clock)();
                (now >= self.rollover_at).then_some(now)
            }
        }
    }

    /// Whether a line of `len` bytes, written after `ahead` bytes not yet written, needs a
    /// size rollover before it.
    fn size_rollover_due(&self, ahead: u64, len: u64) -> bool {
        let size = self.size.saturating_add(ahead);
        matches!(self.rotation, Rotation::Size(max_size)
            if max_size > 0 && self.backups > 0 && size > 0 && size.saturating_add(len) >= max_size)
    }

    /// Writes `bytes` whole, counting them in the file's size.
    fn write_all_counted(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.file.write_all(bytes)?;
        self.size += u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        Ok(())
    }

    /// Rotates by size: shifts the numbered backups and starts a new file.
    fn rotate_by_size(&mut self) -> io::Result<()> {
        for n in (1..self.backups).rev() {
            let from = numbered(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, numbered(&self.path, 1))?;
        self.reopen()
    }

    /// Rotates by time at `now` (Python's `doRollover`): names the file after its period's
    /// start, deletes the oldest backups past `backups`, and sets the next rollover.
    fn rotate_by_time(
        &mut self,
        now: NaiveDateTime,
        when: RotateWhen,
        interval: u32,
    ) -> io::Result<()> {
        let start = self.rollover_at - when.period(interval);
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{}", start.format(when.suffix())));
        let target = PathBuf::from(name);
        if target.exists() {
            std::fs::remove_file(&target)?;
        }
        std::fs::rename(&self.path, &target)?;
        if self.backups > 0 {
            for old in self.files_to_delete(when)? {
                std::fs::remove_file(old)?;
            }
        }
        let mut next = when.next_rollover(now, interval);
        while next <= now {
            next += when.period(interval);
        }
        self.rollover_at = next;
        self.reopen()
    }

    /// Rotated files past `backups`, oldest first (Python's `getFilesToDelete`: names that
    /// are the log file's plus `.` and a date in `when`'s format).
    fn files_to_delete(&self, when: RotateWhen) -> io::Result<Vec<PathBuf>> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let Some(base) = self.path.file_name().and_then(|n| n.to_str()) else {
            return Ok(Vec::new());
        };
        let prefix = format!("{base}.");
        // The shape of a stamp in `when`'s format: digits where a formatted date has them.
        let sample = chrono::DateTime::UNIX_EPOCH
            .naive_utc()
            .format(when.suffix())
            .to_string();
        let mut found: Vec<String> = std::fs::read_dir(&dir)?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| {
                name.strip_prefix(&prefix)
                    .is_some_and(|stamp| stamp_matches(stamp, &sample))
            })
            .collect();
        found.sort();
        let keep = self.backups as usize;
        let excess = found.len().saturating_sub(keep);
        Ok(found
            .into_iter()
            .take(excess)
            .map(|name| dir.join(name))
            .collect())
    }

    /// Starts a new, empty log file.
    fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Whether `stamp` has the shape of `sample` (Python's `extMatch`): the same length, digits
/// where `sample` has digits, and its other characters.
fn stamp_matches(stamp: &str, sample: &str) -> bool {
    stamp.len() == sample.len()
        && stamp.bytes().zip(sample.bytes()).all(|(s, p)| {
            if p.is_ascii_digit() {
                s.is_ascii_digit()
            } else {
                s == p
            }
        })
}

/// The writer for one event: holds the file lock so a line is never interleaved.
pub(super) struct RotatingWriter<'a>(MutexGuard<'a, FileState>);

impl Write for RotatingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let state = &mut *self.0;
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        if let Some(now) = state.should_rotate(len) {
            match state.rotation {
                Rotation::Size(_) => state.rotate_by_size()?,
                Rotation::Time { when, interval } => state.rotate_by_time(now, when, interval)?,
            }
        }
        let n = state.file.write(buf)?;
        state.size += u64::try_from(n).unwrap_or(u64::MAX);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.file.flush()
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = RotatingWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RotatingWriter(self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Batches from [`crate::line_batch`]: one `write(2)` per batch, but each line is checked for
/// a size rollover as if written alone (Python's `shouldRollover` per record), and the time
/// rollover once per batch.
impl LineSink for RotatingFile {
    fn write_lines(&self, lines: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Rotation::Time { when, interval } = state.rotation
            && let Some(now) = state.should_rotate(0)
        {
            state.rotate_by_time(now, when, interval)?;
        }
        // `start..end`: whole lines not yet written, that fit before the next rollover.
        let mut start = 0;
        let mut end = 0;
        for line in lines.split_inclusive(|&b| b == b'\n') {
            let ahead = u64::try_from(end - start).unwrap_or(u64::MAX);
            let len = u64::try_from(line.len()).unwrap_or(u64::MAX);
            if state.size_rollover_due(ahead, len) {
                state.write_all_counted(&lines[start..end])?;
                state.rotate_by_size()?;
                start = end;
            }
            end += line.len();
        }
        state.write_all_counted(&lines[start..end])
    }
}

#[cfg(test)]
mod tests;
