//! The classification contract and what derives from it, without HTTP or files.

pub mod acw;
pub mod classify;
pub mod compliance;
pub mod counts;
pub mod enrich;
pub mod lookup;
pub mod names;
pub mod reason;
pub mod rows;
