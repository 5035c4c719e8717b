//! Pure domain core of ringline, the county party-building demonstration-zone platform: NBS
//! statistical division codes ([`division`]), coordinates and their conversion from the Chinese
//! web-map systems ([`geo`]), and zone geometry and membership ([`zone`]). It is pure domain
//! core; no IO, no SQL, no HTTP — only values in, values out.

#![forbid(unsafe_code)]

pub mod division;
pub mod geo;
pub mod mask;
pub mod text;
pub mod zone;
