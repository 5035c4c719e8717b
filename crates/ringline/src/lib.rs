//! ringline: the platform a county's organization department uses to plan, run and assess
//! party-building demonstration zones that drive rural industry (党建引领乡村振兴示范带).
//!
//! Layers: [`ringline_core`] (pure domain rules) ← storage ([`db`], feature modules
//! [`divisions`], [`zones`], [`auth`]) ← [`import`] ← [`web`] and [`cli`]. See ARCHITECTURE.md.

#![forbid(unsafe_code)]

pub mod access;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cadres;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod divisions;
pub mod economy;
pub mod generate;
pub mod i18n;
pub mod import;
pub mod kind;
pub mod registry;
pub mod seed;
pub mod users;
pub mod web;
pub mod zones;

pub use ringline_core as core;
