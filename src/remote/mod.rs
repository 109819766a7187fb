//! The owner's phone as a remote control: text commands from the owner's own mobile.

pub mod command;
pub mod control;

pub use control::Remote;
