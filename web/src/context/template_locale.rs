//! The request's locale in templates (features `locale` and `template`): Tornado's `_`,
//! `pgettext` and `locale` names, with `locale`'s methods as in Tornado's templates:
//! `{{ locale.format_date(entry.published) }}`, `{{ locale.list(names) }}`.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use minijinja::value::{Kwargs, Object, from_args};
use minijinja::{Error, ErrorKind, State};
use typhoon_locale::{DateFormat, Locale};
use typhoon_template::{Namespace, Value};

/// Puts `_`, `pgettext` and `locale` into a template's namespace: `{{ _("school") }}`,
/// `{{ _("%(n)d item", "%(n)d items", n)|format(n=n) }}` (minijinja's `format` takes Python's
/// `%(name)s`), `{{ pgettext("law", "right") }}`, `{{ locale.code }}`.
pub(super) fn insert_locale(namespace: &mut Namespace, locale: &Locale) {
    let translate = locale.clone();
    namespace.insert(
        "_",
        Value::from_function(
            move |message: String, plural: Option<String>, count: Option<i64>| match plural {
                Some(plural) => translate.ntranslate(&message, &plural, count.unwrap_or(1)),
                None => translate.translate(&message),
            },
        ),
    );
    let contextual = locale.clone();
    namespace.insert(
        "pgettext",
        Value::from_function(
            move |context: String, message: String, plural: Option<String>, count: Option<i64>| {
                match plural {
                    Some(plural) => {
                        contextual.npgettext(&context, &message, &plural, count.unwrap_or(1))
                    }
                    None => contextual.pgettext(&context, &message),
                }
            },
        ),
    );
    namespace.insert("locale", Value::from_object(TemplateLocale(locale.clone())));
}

/// A [`Locale`] as a template sees it: `code`, `name` and `rtl`, and Tornado's methods.
#[derive(Debug)]
struct TemplateLocale(Locale);

impl Object for TemplateLocale {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "code" => Some(Value::from(self.0.code())),
            "name" => Some(Value::from(self.0.name())),
            "rtl" => Some(Value::from(self.0.rtl())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let locale = &self.0;
        match method {
            "translate" => {
                let (message, plural, count): (String, Option<String>, Option<i64>) =
                    from_args(args)?;
                Ok(Value::from(match plural {
                    Some(plural) => locale.ntranslate(&message, &plural, count.unwrap_or(1)),
                    None => locale.translate(&message),
                }))
            }
            "format_date" => {
                let (date, options): (Value, Kwargs) = from_args(args)?;
                let mut format = DateFormat::default();
                if let Some(offset) = options.get::<Option<i64>>("gmt_offset")? {
                    format.gmt_offset = offset;
                }
                if let Some(relative) = options.get::<Option<bool>>("relative")? {
                    format.relative = relative;
                }
                if let Some(shorter) = options.get::<Option<bool>>("shorter")? {
                    format.shorter = shorter;
                }
                if let Some(full) = options.get::<Option<bool>>("full_format")? {
                    format.full_format = full;
                }
                options.assert_all_used()?;
                Ok(Value::from(locale.format_date(to_datetime(&date)?, format)))
            }
            "format_day" => {
                let (date, options): (Value, Kwargs) = from_args(args)?;
                let gmt_offset = options.get::<Option<i64>>("gmt_offset")?.unwrap_or(0);
                let dow = options.get::<Option<bool>>("dow")?.unwrap_or(true);
                options.assert_all_used()?;
                Ok(Value::from(locale.format_day(
                    to_datetime(&date)?,
                    gmt_offset,
                    dow,
                )))
            }
            "list" => {
                let (parts,): (Vec<String>,) = from_args(args)?;
                Ok(Value::from(locale.list(&parts)))
            }
            "friendly_number" => {
                let (value,): (i64,) = from_args(args)?;
                Ok(Value::from(locale.friendly_number(value)))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A template's date: a Unix timestamp, or text in RFC 3339 or SQL's `YYYY-MM-DD HH:MM:SS`
/// (taken as UTC, as Tornado takes naive datetimes).
fn to_datetime(value: &Value) -> Result<DateTime<Utc>, Error> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("not a date: {value} (a timestamp, RFC 3339, or YYYY-MM-DD HH:MM:SS)"),
        )
    };
    if let Some(text) = value.as_str() {
        if let Ok(date) = DateTime::parse_from_rfc3339(text) {
            return Ok(date.with_timezone(&Utc));
        }
        return ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(|naive| naive.and_utc())
            .ok_or_else(invalid);
    }
    let seconds = f64::try_from(value.clone()).map_err(|_| invalid())?;
    DateTime::from_timestamp_millis((seconds * 1000.0) as i64).ok_or_else(invalid)
}
