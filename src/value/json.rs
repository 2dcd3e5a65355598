//! JSON documents in a canonical form for the `json-semantic` rule: objects with their keys
//! sorted (the last of repeated keys wins, as most parsers do), white space dropped, strings
//! unescaped, and numbers as exact decimals (`1.0` = `1` = `1e0`; `98765432109876543210` ≠
//! `…211`: never through f64, which would make both the same double).

use std::collections::BTreeMap;

use super::text;

#[derive(Debug, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(text::Decimal),
    Text(String),
    List(Vec<Node>),
    Object(BTreeMap<String, Node>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Node> {
        self.depth += 1;
        if self.depth > 256 {
            return None;
        }
        self.ws();
        let node = match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let Node::Text(k) = self.string()? else {
                            return None;
                        };
                        if !self.eat(b':') {
                            return None;
                        }
                        let v = self.value()?;
                        m.insert(k, v);
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Node::Object(m)
            }
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                if !self.eat(b']') {
                    loop {
                        v.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Node::List(v)
            }
            b'"' => self.string()?,
            b't' if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Node::Bool(true)
            }
            b'f' if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Node::Bool(false)
            }
            b'n' if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Node::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                Node::Number(text::decimal(t)?)
            }
        };
        self.depth -= 1;
        Some(node)
    }

    fn string(&mut self) -> Option<Node> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        // serde_json unescapes exactly; the string's extent is found here.
        let start = self.i;
        self.i += 1;
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                    return serde_json::from_str::<String>(raw).ok().map(Node::Text);
                }
                _ => self.i += 1,
            }
        }
        None
    }
}

fn parse(s: &str) -> Option<Node> {
    let mut p = Parser {
        s: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == s.len()).then_some(v)
}

/// Whether two texts are the same JSON value (numbers exact, key order ignored); `None` when
/// either is not JSON.
pub fn same_value(a: &str, b: &str) -> Option<bool> {
    Some(parse(a)? == parse(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact_and_key_order_is_ignored() {
        assert_eq!(
            same_value(
                r#"{"n": 98765432109876543210}"#,
                r#"{"n": 98765432109876543211}"#
            ),
            Some(false)
        );
        assert_eq!(
            same_value(r#"{"a": 1.0, "b": [1, "x"]}"#, r#"{"b":[1e0,"x"],"a":1}"#),
            Some(true)
        );
        assert_eq!(same_value(r#"{"a": null}"#, r#"{"a": ""}"#), Some(false));
        assert_eq!(same_value(r#""\u00e9""#, r#""é""#), Some(true));
        assert_eq!(same_value("{", "{}"), None);
        assert_eq!(same_value("[1] x", "[1]"), None);
    }
}
