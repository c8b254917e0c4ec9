//! TOML config values to [`Value`].

use crate::types::Value;

/// Converts a TOML value; `None` for tables, which name no option value.
pub(crate) fn to_value(value: &toml::Value) -> Option<Value> {
    Some(match value {
        toml::Value::String(s) => Value::Str(s.clone()),
        toml::Value::Integer(i) => Value::Int(i128::from(*i)),
        toml::Value::Float(x) => Value::Float(*x),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Str(d.to_string()),
        toml::Value::Array(items) => {
            Value::List(items.iter().map(to_value).collect::<Option<_>>()?)
        }
        toml::Value::Table(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_scalars_and_arrays() {
        let table: toml::Table = "a = 1\nb = 'x'\nc = [1, 2]\nd = 1.5\ne = true\n[f]\ng = 1\n"
            .parse()
            .expect("valid toml");
        assert_eq!(to_value(&table["a"]), Some(Value::Int(1)));
        assert_eq!(to_value(&table["b"]), Some(Value::Str("x".into())));
        assert_eq!(
            to_value(&table["c"]),
            Some(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(to_value(&table["d"]), Some(Value::Float(1.5)));
        assert_eq!(to_value(&table["e"]), Some(Value::Bool(true)));
        assert_eq!(to_value(&table["f"]), None);
    }
}
