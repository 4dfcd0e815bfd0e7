//! Safe, bounded readers for the archives a Python package registry accepts.
//!
//! Everything here is synchronous and reads only from the reader it is given; it never
//! touches the file system and never executes package code. Uploads are hostile input, so
//! every size is counted on bytes actually decompressed, every allocation is bounded by a
//! [`Limits`] field or a small constant, and any ambiguity that could let two tools see two
//! different packages in the same bytes is refused rather than resolved.

#![warn(missing_docs)]

mod error;
mod limits;
mod member_path;
mod metadata;
mod npm;
mod polyglot;
mod record;
mod sdist;
mod sink;
mod wheel;
mod zip_archive;

pub use error::ArtifactError;
pub use limits::Limits;
pub use metadata::{parse_metadata, parse_metadata_with_limit, CoreMetadata};
pub use npm::{read_npm_tarball, read_npm_tarball_with, NpmTarballInfo};
pub use sdist::{read_sdist, read_sdist_with, SdistInfo};
pub use sink::{MemberSink, NoSink};
pub use wheel::{read_wheel, read_wheel_with, WheelInfo};
