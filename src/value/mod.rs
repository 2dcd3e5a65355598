//! The one value model every engine shares: how Arrow types are brought to a few kinds
//! ([`kind`]); the canonical encoding and row hashes that every comparison rests on
//! ([`canonical`], with composite values in `composite` and the reading of encodings back in
//! `payload`); the strict text readers that turn an untyped value into a typed one only when
//! nothing is lost ([`text`]); exact arithmetic and JSON for the tolerance rules ([`exact`],
//! [`json`]); and how values are shown ([`kind::display`], [`canonical::display`]).
//!
//! Readers hand values here exactly as stored; nothing is merged, stringified or parsed leniently
//! before this layer. Profile, diff, check and migrate import `value`, never each other's
//! internals.

pub mod canonical;
mod composite;
pub mod exact;
pub mod json;
pub mod kind;
mod payload;
pub mod text;
