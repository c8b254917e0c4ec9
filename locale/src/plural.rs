//! The `plural=` expression of a gettext catalog's `Plural-Forms` header: the C subset that
//! GNU gettext and Python's `gettext.c2py` accept (`n`, decimal numbers, `! * / % + - < <= > >=
//! == != && || ?:` and parentheses, with C's precedence), parsed once and evaluated for each
//! count.

use crate::error::LocaleError;

/// A parsed `plural=` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plural {
    /// The count.
    N,
    /// A number.
    Number(u64),
    /// `!e`.
    Not(Box<Plural>),
    /// `a op b`.
    Binary(Op, Box<Plural>, Box<Plural>),
    /// `c ? a : b`.
    Ternary(Box<Plural>, Box<Plural>, Box<Plural>),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Op {
    /// The operator's precedence (higher binds tighter) and its spelling.
    const TABLE: [(&'static str, Op, u8); 13] = [
        ("||", Op::Or, 1),
        ("&&", Op::And, 2),
        ("==", Op::Eq, 3),
        ("!=", Op::Ne, 3),
        ("<=", Op::Le, 4),
        (">=", Op::Ge, 4),
        ("<", Op::Lt, 4),
        (">", Op::Gt, 4),
        ("+", Op::Add, 5),
        ("-", Op::Sub, 5),
        ("*", Op::Mul, 6),
        ("/", Op::Div, 6),
        ("%", Op::Rem, 6),
    ];
}

impl Plural {
    /// English's rule, Python's default without a header: `n != 1`.
    pub(crate) fn germanic() -> Self {
        Plural::Binary(Op::Ne, Box::new(Plural::N), Box::new(Plural::Number(1)))
    }

    /// Parses the expression after `plural=` (a trailing `;` is allowed).
    pub(crate) fn parse(source: &str) -> Result<Self, LocaleError> {
        let source = source.trim().trim_end_matches(';');
        let mut parser = Parser {
            source,
            at: 0,
            depth: 0,
        };
        let expression = parser.ternary()?;
        parser.skip_space();
        if parser.at != source.len() {
            return Err(parser.error());
        }
        Ok(expression)
    }

    /// The plural form for `n` (C semantics on unsigned longs; a division by zero gives 0).
    pub(crate) fn evaluate(&self, n: u64) -> u64 {
        match self {
            Plural::N => n,
            Plural::Number(value) => *value,
            Plural::Not(e) => u64::from(e.evaluate(n) == 0),
            Plural::Ternary(c, a, b) => {
                if c.evaluate(n) != 0 {
                    a.evaluate(n)
                } else {
                    b.evaluate(n)
                }
            }
            Plural::Binary(op, a, b) => {
                let a = a.evaluate(n);
                // `&&` and `||` short-circuit as in C.
                match op {
                    Op::Or if a != 0 => return 1,
                    Op::And if a == 0 => return 0,
                    _ => {}
                }
                let b = b.evaluate(n);
                match op {
                    Op::Or | Op::And => u64::from(b != 0),
                    Op::Eq => u64::from(a == b),
                    Op::Ne => u64::from(a != b),
                    Op::Lt => u64::from(a < b),
                    Op::Le => u64::from(a <= b),
                    Op::Gt => u64::from(a > b),
                    Op::Ge => u64::from(a >= b),
                    Op::Add => a.wrapping_add(b),
                    Op::Sub => a.wrapping_sub(b),
                    Op::Mul => a.wrapping_mul(b),
                    Op::Div => a.checked_div(b).unwrap_or(0),
                    Op::Rem => a.checked_rem(b).unwrap_or(0),
                }
            }
        }
    }
}

/// Deepest nesting a `plural=` expression may have (real ones have under 10).
const MAX_DEPTH: usize = 64;

/// A recursive-descent parser over the expression's text.
struct Parser<'a> {
    /// The expression.
    source: &'a str,
    /// The next byte.
    at: usize,
    /// How deep the parse is, bounded so that no input can exhaust the stack.
    depth: usize,
}

impl Parser<'_> {
    fn error(&self) -> LocaleError {
        LocaleError::PluralForms {
            expression: self.source.to_owned(),
            at: self.at,
        }
    }

    fn skip_space(&mut self) {
        while self.source[self.at..].starts_with([' ', '\t', '\n', '\r']) {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.source[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// `c ? a : b`, right-associative, or a binary expression.
    fn ternary(&mut self) -> Result<Plural, LocaleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error());
        }
        let condition = self.binary(1)?;
        let expression = if self.eat("?") {
            let then = self.ternary()?;
            if !self.eat(":") {
                return Err(self.error());
            }
            let otherwise = self.ternary()?;
            Plural::Ternary(Box::new(condition), Box::new(then), Box::new(otherwise))
        } else {
            condition
        };
        self.depth -= 1;
        Ok(expression)
    }

    /// Binary operators of precedence `min` and tighter, left-associative.
    fn binary(&mut self, min: u8) -> Result<Plural, LocaleError> {
        let mut left = self.unary()?;
        loop {
            self.skip_space();
            let rest = &self.source[self.at..];
            let Some(&(spelling, op, precedence)) = Op::TABLE
                .iter()
                .find(|(spelling, _, precedence)| *precedence >= min && rest.starts_with(spelling))
            else {
                return Ok(left);
            };
            self.at += spelling.len();
            let right = self.binary(precedence + 1)?;
            left = Plural::Binary(op, Box::new(left), Box::new(right));
        }
    }

    /// `!e`, `(e)`, `n` or a number.
    fn unary(&mut self) -> Result<Plural, LocaleError> {
        if self.eat("!") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error());
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Plural::Not(Box::new(inner)));
        }
        if self.eat("(") {
            let inner = self.ternary()?;
            if !self.eat(")") {
                return Err(self.error());
            }
            return Ok(inner);
        }
        if self.eat("n") {
            return Ok(Plural::N);
        }
        self.skip_space();
        let digits = self.source[self.at..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 {
            return Err(self.error());
        }
        let number = self.source[self.at..self.at + digits]
            .parse()
            .map_err(|_| self.error())?;
        self.at += digits;
        Ok(Plural::Number(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(expression: &str, counts: &[u64]) -> Vec<u64> {
        let plural = Plural::parse(expression).expect("parses");
        counts.iter().map(|&n| plural.evaluate(n)).collect()
    }

    #[test]
    fn the_common_rules() {
        assert_eq!(forms("(n > 1)", &[0, 1, 2]), [0, 0, 1]); // French
        assert_eq!(forms("(n != 1);", &[0, 1, 2]), [1, 0, 1]); // English
        assert_eq!(forms("0", &[0, 1, 7]), [0, 0, 0]); // Japanese
        // Polish: three forms.
        let polish = "(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)";
        assert_eq!(
            forms(polish, &[1, 2, 4, 5, 12, 22, 25, 112]),
            [0, 1, 1, 2, 2, 1, 2, 2]
        );
        // Russian.
        let russian =
            "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)";
        assert_eq!(forms(russian, &[1, 11, 21, 3, 13, 5]), [0, 2, 0, 1, 2, 2]);
        // Arabic's six forms, with `!` and nested ternaries.
        let arabic =
            "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5";
        assert_eq!(forms(arabic, &[0, 1, 2, 5, 15, 100]), [0, 1, 2, 3, 4, 5]);
        assert_eq!(forms("!(n == 1)", &[1, 2]), [0, 1]);
        assert_eq!(forms("n / 0 + n % 0", &[5]), [0]);
    }

    #[test]
    fn bad_expressions_are_errors_not_panics() {
        for bad in [
            "",
            "n >",
            "(n",
            "n ? 1",
            "x",
            "n > 1 )",
            &"(".repeat(10_000),
        ] {
            assert!(Plural::parse(bad).is_err(), "{bad:.20}");
        }
        assert!(Plural::parse(&"!".repeat(10_000)).is_err());
    }
}
