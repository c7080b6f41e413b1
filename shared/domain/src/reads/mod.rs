//! What is read back out of the table: the spec §6 analysis every view starts from, a
//! company's reads (spec §4), statistics (spec §7) and who is on site (spec §10).

pub mod analysis;
pub mod present;
pub mod queries;
pub mod statistics;

#[cfg(test)]
mod tests;
