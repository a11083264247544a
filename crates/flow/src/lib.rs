//! The flow runtime: Tiny Systems flows — nodes connected by edges — over components of
//! the capabilities layer.
//!
//! A message's path: a [`source`] yields TinyNode/TinySignal [`manifest`]s, the [`drive`]
//! loop hands them to the [`runtime`], whose [`apply`] makes them running [`node`]s
//! (with their [`settings`] and [`status`]) in the [`nodes`] table. The [`router`] takes a
//! message to a node's port through the edge's [`mapping`], runs the node's component on
//! an [`instance`] lent by its pool (loaded in [`components`]), and delivers what the
//! component outputs along the next edges — to a node of another module through
//! [`remote`]. What happens is published as [`events`]; what fails is an [`error`].

#![warn(missing_docs)]

pub mod apply;
pub mod components;
pub mod drive;
pub mod error;
pub mod events;
pub mod instance;
pub mod manifest;
pub mod mapping;
pub mod node;
pub mod nodes;
pub mod remote;
pub mod router;
pub mod runtime;
pub mod settings;
pub mod source;
pub mod status;

pub use error::{CallError, LoadError, ManifestError};
pub use events::Event;
pub use runtime::{Runtime, RuntimeConfig};
