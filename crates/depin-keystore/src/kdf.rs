//! Define the Argon2id parameters used to derive key-file encryption keys from passwords.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::KeystoreError;

/// Largest accepted memory cost: 1 GiB, so a hostile file cannot make us allocate without bound.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
/// Largest accepted number of passes.
const MAX_T_COST: u32 = 16;
/// Largest accepted degree of parallelism.
const MAX_P_COST: u32 = 16;

/// Argon2id cost parameters (version 0x13, 32-byte output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kdf {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism.
    pub p_cost: u32,
}

impl Default for Kdf {
    /// The production parameters: 64 MiB, 3 passes, 1 lane.
    fn default() -> Self {
        Kdf {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl Kdf {
    /// The cheapest parameters Argon2id allows (8 KiB, 1 pass, 1 lane).
    ///
    /// For tests only: a key file written with these is barely protected against password
    /// guessing. Never use them for real keys, including development networks' homes.
    pub fn fast_for_tests() -> Self {
        Kdf {
            m_cost_kib: Params::MIN_M_COST,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Check the parameters are within the accepted bounds (Argon2's minimums, and caps of
    /// 1 GiB memory, 16 passes and 16 lanes).
    pub fn validate(&self) -> Result<(), KeystoreError> {
        let Kdf {
            m_cost_kib,
            t_cost,
            p_cost,
        } = *self;
        let ok = (1..=MAX_P_COST).contains(&p_cost)
            && (1..=MAX_T_COST).contains(&t_cost)
            && m_cost_kib >= Params::MIN_M_COST
            && m_cost_kib >= 8 * p_cost
            && m_cost_kib <= MAX_M_COST_KIB;
        if ok {
            Ok(())
        } else {
            Err(KeystoreError::BadKdf {
                m_cost_kib,
                t_cost,
                p_cost,
            })
        }
    }

    /// Derive a 32-byte key from `password` and `salt`.
    pub(crate) fn derive(
        &self,
        password: &[u8],
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
        self.validate()?;
        let params =
            Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32)).map_err(|_| {
                KeystoreError::BadKdf {
                    m_cost_kib: self.m_cost_kib,
                    t_cost: self.t_cost,
                    p_cost: self.p_cost,
                }
            })?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password, salt, &mut key[..])
            .map_err(|e| KeystoreError::KdfFailed(e.to_string()))?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        Kdf::default().validate().unwrap();
        Kdf::fast_for_tests().validate().unwrap();
        for bad in [
            Kdf {
                m_cost_kib: 4,
                t_cost: 1,
                p_cost: 1,
            },
            Kdf {
                m_cost_kib: 2 * 1024 * 1024,
                t_cost: 1,
                p_cost: 1,
            },
            Kdf {
                m_cost_kib: 64,
                t_cost: 0,
                p_cost: 1,
            },
            Kdf {
                m_cost_kib: 64,
                t_cost: 17,
                p_cost: 1,
            },
            Kdf {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 0,
            },
            Kdf {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 17,
            },
            Kdf {
                m_cost_kib: 8,
                t_cost: 1,
                p_cost: 2,
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(KeystoreError::BadKdf { .. })),
                "{bad:?}"
            );
            assert!(bad.derive(b"pw", &[0; 16]).is_err());
        }
    }

    #[test]
    fn derivation_is_deterministic_and_salted() {
        let k = Kdf::fast_for_tests();
        let a = k.derive(b"pw", &[1; 16]).unwrap();
        let b = k.derive(b"pw", &[1; 16]).unwrap();
        let c = k.derive(b"pw", &[2; 16]).unwrap();
        let d = k.derive(b"pX", &[1; 16]).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
        assert_ne!(*a, *d);
    }
}
