//! Option types: the [`OptionType`] trait, its implementations and the dynamic [`Value`].

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Largest number of integers an `x:y` range in a list option may expand to.
///
/// Tornado expands ranges without a limit; a typo such as `1:4000000000` would then
/// allocate gigabytes, so a range this long is rejected as a bad value instead.
pub const MAX_RANGE_LEN: u128 = 1 << 20;

/// An option value without its Rust type, as returned by [`OptionParser::items`] and friends
/// and as read from a config file.
///
/// `Display` writes the value as it would be written on the command line (`30s`, `a,b,c`).
///
/// [`OptionParser::items`]: crate::OptionParser::items
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// No value: an `Option<T>` option that is unset (Python's `None`).
    None,
    /// A boolean.
    Bool(bool),
    /// Any integer type up to 64 bits.
    Int(i128),
    /// `f32` or `f64`.
    Float(f64),
    /// Strings, paths, addresses and other types written as text.
    Str(String),
    /// A [`Duration`].
    Duration(Duration),
    /// A list option (`Vec<T>`, Tornado's `multiple=True`).
    List(Vec<Value>),
}

impl Value {
    /// A short name of the variant, used in error messages (`integer`, `string`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "no value",
            Self::Bool(_) => "boolean",
            Self::Int(_) => "integer",
            Self::Float(_) => "float",
            Self::Str(_) => "string",
            Self::Duration(_) => "duration",
            Self::List(_) => "list",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Str(s) => f.write_str(s),
            Self::Duration(d) => f.write_str(&format_duration(*d)),
            Self::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

/// A type an option can have.
///
/// Implemented for `bool`, all integer types up to 64 bits, `f32`, `f64`, `String`, `PathBuf`,
/// `IpAddr`, `SocketAddr`, [`Duration`], `Vec<T>` (Tornado's `multiple=True`) and `Option<T>`
/// (an option whose default is Python's `None`). Implement it for your own types as Tornado
/// accepts any callable as `type`; only [`type_name`](Self::type_name),
/// [`parse`](Self::parse) and [`to_value`](Self::to_value) are required.
///
/// # Examples
///
/// ```
/// use typhoon_options::{OptionDef, OptionParser, OptionType, Value};
/// use std::borrow::Cow;
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Email(String);
///
/// impl OptionType for Email {
///     fn type_name() -> Cow<'static, str> {
///         "email address".into()
///     }
///     fn parse(s: &str) -> Result<Self, String> {
///         if s.contains('@') { Ok(Email(s.to_owned())) } else { Err("no `@`".into()) }
///     }
///     fn to_value(&self) -> Value {
///         Value::Str(self.0.clone())
///     }
/// }
///
/// let parser = OptionParser::new();
/// let email = parser.define(OptionDef::new("email", Email("root@localhost".into())))?;
/// parser.parse_command_line(["main", "--email=tornado@web.com"], true)?;
/// assert_eq!(email.get(), Email("tornado@web.com".into()));
/// assert!(parser.parse_command_line(["main", "--email=nobody"], true).is_err());
/// # Ok::<(), typhoon_options::OptionsError>(())
/// ```
pub trait OptionType: Clone + Send + Sync + 'static {
    /// The type's name in help and in [`OptionsError::InvalidValue`](crate::OptionsError::InvalidValue).
    fn type_name() -> Cow<'static, str>;

    /// Parses a value written on the command line (or as a string in a config file).
    ///
    /// # Errors
    ///
    /// A short reason, such as `invalid digit found in string`.
    fn parse(s: &str) -> Result<Self, String>;

    /// The value without its type, for introspection and help.
    fn to_value(&self) -> Value;

    /// Converts a value read from a config file. The default accepts strings through
    /// [`parse`](Self::parse) and rejects anything else.
    ///
    /// # Errors
    ///
    /// A short reason when the value has the wrong kind or does not parse.
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Str(s) => Self::parse(s),
            other => Err(found(other)),
        }
    }

    /// Parses one comma-separated item of a list option. Integers override it to expand
    /// Tornado's inclusive ranges (`5:7` is `5,6,7`).
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    fn parse_list_item(s: &str) -> Result<Vec<Self>, String> {
        Ok(vec![Self::parse(s)?])
    }

    /// Whether `--name` alone (and `--no-name`) is accepted, as for `bool`.
    fn is_flag() -> bool {
        false
    }
}

fn found(value: &Value) -> String {
    format!("found {}", value.kind())
}

impl OptionType for bool {
    fn type_name() -> Cow<'static, str> {
        "bool".into()
    }

    /// Accepts `true`/`false`, `t`/`f`, `1`/`0`, `yes`/`no`, `y`/`n`, `on`/`off` in any case.
    /// (Tornado treats every string except `false`, `f` and `0` as true; a stricter parser
    /// turns a typo into an error instead of a silent `true`.)
    fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" | "on" => Ok(true),
            "false" | "f" | "0" | "no" | "n" | "off" => Ok(false),
            _ => Err("not one of true, false, 1, 0, yes, no, on, off".into()),
        }
    }

    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Str(s) => Self::parse(s),
            other => Err(found(other)),
        }
    }

    fn is_flag() -> bool {
        true
    }
}

macro_rules! integer_option {
    ($($t:ty),*) => {$(
        impl OptionType for $t {
            fn type_name() -> Cow<'static, str> {
                stringify!($t).into()
            }

            fn parse(s: &str) -> Result<Self, String> {
                s.trim().parse::<$t>().map_err(|e| e.to_string())
            }

            fn to_value(&self) -> Value {
                #[allow(clippy::cast_lossless, trivial_numeric_casts)]
                Value::Int(*self as i128)
            }

            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Int(i) => <$t>::try_from(*i)
                        .map_err(|_| format!("{i} is out of range for {}", stringify!($t))),
                    Value::Str(s) => Self::parse(s),
                    other => Err(found(other)),
                }
            }

            fn parse_list_item(s: &str) -> Result<Vec<Self>, String> {
                // Tornado: `lo:hi` is inclusive at both ends; `lo:` is just `lo`.
                let Some((lo, hi)) = s.split_once(':') else {
                    return Ok(vec![Self::parse(s)?]);
                };
                let lo = Self::parse(lo)?;
                if hi.trim().is_empty() {
                    return Ok(vec![lo]);
                }
                let hi = Self::parse(hi)?;
                if hi < lo {
                    return Err(format!("range `{s}` ends before it starts"));
                }
                #[allow(clippy::cast_lossless, trivial_numeric_casts)]
                let len = (hi as i128 - lo as i128) as u128 + 1;
                if len > MAX_RANGE_LEN {
                    return Err(format!("range `{s}` has more than {MAX_RANGE_LEN} items"));
                }
                Ok((lo..=hi).collect())
            }
        }
    )*};
}

integer_option!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! float_option {
    ($($t:ty),*) => {$(
        impl OptionType for $t {
            fn type_name() -> Cow<'static, str> {
                stringify!($t).into()
            }

            fn parse(s: &str) -> Result<Self, String> {
                s.trim().parse::<$t>().map_err(|e| e.to_string())
            }

            fn to_value(&self) -> Value {
                Value::Float(f64::from(*self))
            }

            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Float(x) => Ok(*x as $t),
                    Value::Int(i) => Ok(*i as $t),
                    Value::Str(s) => Self::parse(s),
                    other => Err(found(other)),
                }
            }
        }
    )*};
}

float_option!(f32, f64);

impl OptionType for String {
    fn type_name() -> Cow<'static, str> {
        "string".into()
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(s.to_owned())
    }

    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl OptionType for PathBuf {
    fn type_name() -> Cow<'static, str> {
        "path".into()
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(PathBuf::from(s))
    }

    fn to_value(&self) -> Value {
        Value::Str(self.to_string_lossy().into_owned())
    }
}

macro_rules! from_str_option {
    ($($t:ty => $name:literal),*) => {$(
        impl OptionType for $t {
            fn type_name() -> Cow<'static, str> {
                $name.into()
            }

            fn parse(s: &str) -> Result<Self, String> {
                s.trim().parse::<$t>().map_err(|e| e.to_string())
            }

            fn to_value(&self) -> Value {
                Value::Str(self.to_string())
            }
        }
    )*};
}

from_str_option!(IpAddr => "IP address", SocketAddr => "socket address");

impl OptionType for Duration {
    fn type_name() -> Cow<'static, str> {
        "duration".into()
    }

    fn parse(s: &str) -> Result<Self, String> {
        parse_duration(s)
    }

    fn to_value(&self) -> Value {
        Value::Duration(*self)
    }

    /// Strings are parsed as on the command line; bare numbers are seconds.
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Duration(d) => Ok(*d),
            Value::Int(i) => u64::try_from(*i)
                .map(Duration::from_secs)
                .map_err(|_| format!("{i} seconds is not a valid duration")),
            Value::Float(x) => Duration::try_from_secs_f64(*x)
                .map_err(|_| format!("{x} seconds is not a valid duration")),
            Value::Str(s) => parse_duration(s),
            other => Err(found(other)),
        }
    }
}

impl<T: OptionType> OptionType for Vec<T> {
    fn type_name() -> Cow<'static, str> {
        format!("list of {}", T::type_name()).into()
    }

    /// Splits on commas; an empty string is an empty list.
    fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for part in s.split(',') {
            out.extend(T::parse_list_item(part)?);
        }
        Ok(out)
    }

    fn to_value(&self) -> Value {
        Value::List(self.iter().map(T::to_value).collect())
    }

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::List(items) => items.iter().map(T::from_value).collect(),
            Value::Str(s) => Self::parse(s),
            other => Err(found(other)),
        }
    }
}

impl<T: OptionType> OptionType for Option<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn parse(s: &str) -> Result<Self, String> {
        T::parse(s).map(Some)
    }

    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::None, T::to_value)
    }

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::None => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    fn is_flag() -> bool {
        T::is_flag()
    }
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => NANOS_PER_SEC,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1_000_000,
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" => 1_000,
        "ns" | "nsec" | "nsecs" | "nanosecond" | "nanoseconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60 * NANOS_PER_SEC,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * NANOS_PER_SEC,
        "d" | "day" | "days" => 86_400 * NANOS_PER_SEC,
        "w" | "week" | "weeks" => 604_800 * NANOS_PER_SEC,
        _ => return None,
    })
}

/// Length of the number at the start of `s`: `\d+(\.\d*)?|\.\d+` then an optional exponent.
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(0);
    let int_digits = i;
    if i < b.len() && b[i] == b'.' {
        let j = digits(i + 1);
        if int_digits == 0 && j == i + 1 {
            return 0;
        }
        i = j;
    }
    if i == 0 {
        return 0;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let k = digits(j);
        if k > j {
            i = k;
        }
    }
    i
}

/// Parses a duration as Tornado's `timedelta` options do, plus combinations without spaces.
///
/// A duration is one or more `NUMBER[UNIT]` parts, summed: `30s`, `5m`, `1h`, `1h30m`,
/// `1h 30m`, `1.5` (seconds), `250ms`, `2 days`. Units: `ns`, `us`, `ms`, `s`/`sec`,
/// `m`/`min`, `h`/`hr`, `d`, `w` and their long forms (`seconds`, `minutes`, ...), in any
/// case; a number without a unit is seconds.
///
/// # Errors
///
/// A short reason for empty input, a missing number, an unknown unit, a negative value or a
/// duration too large for [`Duration`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_options::parse_duration;
///
/// assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert!(parse_duration("5 fortnights").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        if rest.starts_with('-') {
            return Err("negative durations are not supported".into());
        }
        let unsigned = rest.strip_prefix('+').unwrap_or(rest);
        let n = number_len(unsigned);
        if n == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let number = &unsigned[..n];
        rest = unsigned[n..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].to_ascii_lowercase();
        rest = rest[unit_len..].trim_start();
        let per = unit_nanos(&unit).ok_or_else(|| format!("unknown unit `{unit}`"))?;
        let nanos = if let Ok(whole) = number.parse::<u128>() {
            whole.checked_mul(per)
        } else {
            let x: f64 = number
                .parse()
                .map_err(|_| format!("invalid number `{number}`"))?;
            #[allow(clippy::cast_precision_loss)]
            let scaled = (x * per as f64).round();
            // u64::MAX seconds is the largest Duration; anything above cannot be represented.
            #[allow(clippy::cast_precision_loss)]
            let limit = u64::MAX as f64 * 1e9;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (scaled.is_finite() && scaled <= limit).then_some(scaled as u128)
        };
        total = nanos
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| "duration too large".to_owned())?;
    }
    let secs = u64::try_from(total / NANOS_PER_SEC).map_err(|_| "duration too large".to_owned())?;
    let sub = u32::try_from(total % NANOS_PER_SEC).expect("invariant: remainder below 1e9");
    Ok(Duration::new(secs, sub))
}

/// Writes a duration in the compact form [`parse_duration`] reads: `1h30m`, `45s`,
/// `1s500ms`, `0s`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use typhoon_options::format_duration;
///
/// assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
/// ```
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    let mut nanos = d.as_nanos();
    let mut out = String::new();
    for (unit, name) in [
        (3_600 * NANOS_PER_SEC, "h"),
        (60 * NANOS_PER_SEC, "m"),
        (NANOS_PER_SEC, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ] {
        let q = nanos / unit;
        if q > 0 {
            out.push_str(&format!("{q}{name}"));
        }
        nanos %= unit;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_tornado() {
        let cases = [
            ("45s", 45_000),
            ("1.5", 1_500),
            ("1h 30m", 5_400_000),
            ("1h30m", 5_400_000),
            ("5m", 300_000),
            ("1H", 3_600_000),
            ("2 days", 172_800_000),
            ("1w", 604_800_000),
            ("250ms", 250),
            ("3ms", 3),
            (".5s", 500),
            ("1e3ms", 1_000),
            ("+2s", 2_000),
            ("1min 2sec", 62_000),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(millis)),
                "{text}"
            );
        }
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
    }

    #[test]
    fn bad_durations_are_errors() {
        for text in [
            "",
            "  ",
            "s",
            "5 fortnights",
            "-5s",
            "1h-5m",
            "s5",
            "1 h h",
            "99999999999999999999999h",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?} should fail");
        }
    }

    #[test]
    fn durations_round_trip_through_format() {
        for d in [
            Duration::ZERO,
            Duration::from_secs(5_400),
            Duration::from_millis(1_500),
            Duration::from_nanos(3_723_004_005_006),
            Duration::from_secs(86_400),
        ] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn integer_ranges() {
        assert_eq!(u16::parse_list_item("5:7"), Ok(vec![5, 6, 7]));
        assert_eq!(i32::parse_list_item("-1:1"), Ok(vec![-1, 0, 1]));
        assert_eq!(u8::parse_list_item("4:"), Ok(vec![4]));
        assert_eq!(u8::parse_list_item("4:4"), Ok(vec![4]));
        assert!(u8::parse_list_item("7:5").is_err());
        assert!(u8::parse_list_item("1:300").is_err());
        assert!(u64::parse_list_item("0:4000000000").is_err());
        assert_eq!(Vec::<u8>::parse("1,3,5:7"), Ok(vec![1, 3, 5, 6, 7]));
        assert_eq!(Vec::<u8>::parse(""), Ok(vec![]));
    }

    #[test]
    fn bools_are_strict() {
        for t in ["true", "True", "1", "yes", "on", "t", "Y"] {
            assert_eq!(bool::parse(t), Ok(true), "{t}");
        }
        for f in ["false", "FALSE", "0", "no", "off", "f", "n"] {
            assert_eq!(bool::parse(f), Ok(false), "{f}");
        }
        assert!(bool::parse("maybe").is_err());
    }

    #[test]
    fn config_values_convert() {
        assert_eq!(u16::from_value(&Value::Int(443)), Ok(443));
        assert!(u16::from_value(&Value::Int(70_000)).is_err());
        assert!(u16::from_value(&Value::Bool(true)).is_err());
        assert_eq!(f64::from_value(&Value::Int(2)), Ok(2.0));
        assert_eq!(
            Vec::<String>::from_value(&Value::List(vec![Value::Str("a".into())])),
            Ok(vec!["a".to_owned()])
        );
        assert_eq!(Option::<u8>::from_value(&Value::None), Ok(None));
        assert_eq!(
            Duration::from_value(&Value::Int(45)),
            Ok(Duration::from_secs(45))
        );
        assert!(Duration::from_value(&Value::Int(-1)).is_err());
        assert!(String::from_value(&Value::Int(1)).is_err());
    }

    #[test]
    fn values_display_as_command_line_text() {
        let list = Value::List(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(list.to_string(), "1,2");
        assert_eq!(
            Value::Duration(Duration::from_secs(90)).to_string(),
            "1m30s"
        );
        assert_eq!(Value::None.to_string(), "");
    }
}
