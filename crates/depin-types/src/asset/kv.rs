//! Parse capacities from `key=value` lists (the CLI's `--capacity`), and name what is wrong with
//! a capacity (the typed problem a registration is rejected with, rule R-2).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// What is wrong with a capacity. The variant order is the encoding tag: append only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// A number outside its range.
    #[error("{field} is {got}, outside {min}..={max}")]
    OutOfRange {
        /// The field.
        field: String,
        /// Lowest allowed.
        min: u64,
        /// Highest allowed.
        max: u64,
        /// Given.
        got: u64,
    },
    /// Too many entries in a list.
    #[error("{field} has more than {max} entries")]
    TooMany {
        /// The field.
        field: String,
        /// Most allowed.
        max: u64,
    },
    /// A list entry given twice.
    #[error("{field} lists {value} twice")]
    Duplicate {
        /// The field.
        field: String,
        /// The repeated value.
        value: String,
    },
    /// A name that is empty, too long, or not lowercase `a-z 0-9 - _ .`.
    #[error("{field} must be 1 to {max_len} characters of a-z 0-9 - _ .")]
    BadName {
        /// The field.
        field: String,
        /// Longest allowed.
        max_len: u64,
    },
    /// A required key is missing (parsing only).
    #[error("{field} is required")]
    Missing {
        /// The key.
        field: String,
    },
    /// A key the class does not have (parsing only).
    #[error("unknown key {field}; this class takes {expected}")]
    Unknown {
        /// The key.
        field: String,
        /// The keys it takes.
        expected: String,
    },
    /// A value that does not parse (parsing only).
    #[error("{field}: expected {expected}")]
    Malformed {
        /// The key.
        field: String,
        /// What was expected.
        expected: String,
    },
}

impl Problem {
    /// `Err(OutOfRange)` unless `min <= got <= max`.
    pub fn range(field: &str, got: u64, min: u64, max: u64) -> Result<(), Problem> {
        if got < min || got > max {
            return Err(Problem::OutOfRange { field: field.into(), min, max, got });
        }
        Ok(())
    }

    /// `Err(BadName)` unless `name` is 1 to `max_len` characters of `a-z 0-9 - _ .`.
    pub fn name(field: &str, name: &str, max_len: usize) -> Result<(), Problem> {
        let ok = !name.is_empty()
            && name.len() <= max_len
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !ok {
            return Err(Problem::BadName { field: field.into(), max_len: max_len as u64 });
        }
        Ok(())
    }
}

/// `key=value` pairs being parsed; every key must be consumed ([`Fields::finish`]).
pub struct Fields {
    pairs: Vec<(String, String, bool)>,
}

impl Fields {
    /// Split `k=v,k=v` (spaces around items are ignored).
    pub fn parse(text: &str) -> Result<Fields, Problem> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| Problem::Malformed {
                field: item.to_string(),
                expected: "key=value".into(),
            })?;
            pairs.push((k.trim().to_string(), v.trim().to_string(), false));
        }
        Ok(Fields { pairs })
    }

    /// Every value of `key`, marking them used.
    pub fn all(&mut self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v, used) in &mut self.pairs {
            if k == key {
                *used = true;
                out.push(v.clone());
            }
        }
        out
    }

    /// The single value of `key`.
    pub fn one(&mut self, key: &str) -> Result<String, Problem> {
        let mut all = self.all(key);
        match all.len() {
            0 => Err(Problem::Missing { field: key.into() }),
            1 => Ok(all.remove(0)),
            _ => Err(Problem::Duplicate { field: key.into(), value: all.remove(0) }),
        }
    }

    /// The single value of `key`, as a number (`_` separators allowed).
    pub fn number<T: std::str::FromStr>(&mut self, key: &str) -> Result<T, Problem> {
        let v = self.one(key)?;
        v.replace('_', "").parse().map_err(|_| Problem::Malformed { field: key.into(), expected: "a whole number".into() })
    }

    /// The value of `key` as a number, if given.
    pub fn optional_number<T: std::str::FromStr>(&mut self, key: &str) -> Result<Option<T>, Problem> {
        if !self.pairs.iter().any(|(k, _, _)| k == key) {
            return Ok(None);
        }
        self.number(key).map(Some)
    }

    /// The single value of `key`, one of `choices`.
    pub fn choice<T: Copy>(&mut self, key: &str, choices: &[(&str, T)]) -> Result<T, Problem> {
        let v = self.one(key)?;
        choices.iter().find(|(name, _)| *name == v).map(|(_, c)| *c).ok_or_else(|| Problem::Malformed {
            field: key.into(),
            expected: format!("one of {}", choices.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
        })
    }

    /// Fail on any key not consumed; `expected` lists the class's keys.
    pub fn finish(self, expected: &str) -> Result<(), Problem> {
        match self.pairs.into_iter().find(|(_, _, used)| !used) {
            Some((k, _, _)) => Err(Problem::Unknown { field: k, expected: expected.into() }),
            None => Ok(()),
        }
    }
}
