//! Represent token amounts as integer base units (u128) with checked arithmetic.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};

/// An amount of the native token in base units. JSON form: a decimal string.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Amount(pub u128);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// Checked addition.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// Checked subtraction.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An amount string that is not a non-negative integer within u128.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("amount must be a non-negative integer number of base units, at most 2^128-1")]
pub struct AmountParseError;

impl FromStr for Amount {
    type Err = AmountParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.replace('_', "");
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountParseError);
        }
        s.parse::<u128>().map(Amount).map_err(|_| AmountParseError)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string (or a non-negative integer)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(v as u128))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
                u128::try_from(v).map(Amount).map_err(|_| E::custom(AmountParseError))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strings_and_rejects_junk() {
        assert_eq!("1_000".parse::<Amount>().unwrap(), Amount(1000));
        assert!("-1".parse::<Amount>().is_err());
        assert!("1.5".parse::<Amount>().is_err());
        assert!("".parse::<Amount>().is_err());
        assert!("340282366920938463463374607431768211456".parse::<Amount>().is_err());
    }
}
