//! Store the block log, receipts, query indexes and authenticated state in redb.

pub mod authstate;
