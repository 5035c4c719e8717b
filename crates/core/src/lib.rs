//! Pure domain core of ringline, the county party-building demonstration-zone platform: NBS
//! statistical division codes ([`division`]), coordinates and their conversion from the Chinese
//! web-map systems ([`geo`]), zone geometry and membership ([`zone`]), the identifiers of
//! organisations ([`credit_code`], GB 32100-2015) and people ([`id_number`], GB 11643-1999), and the
//! optimal assignment of dispatched cadres to villages ([`dispatch`]), and the normalising of
//! spreadsheet and CSV cells on import ([`cell`]).
//! It is pure domain core; no IO, no SQL, no HTTP — only values in, values out.

#![forbid(unsafe_code)]

pub mod cell;
pub mod credit_code;
pub mod dispatch;
pub mod division;
pub mod economy;
pub mod geo;
pub mod id_number;
pub mod mask;
pub mod text;
pub mod zone;
