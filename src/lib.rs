//! procdoc: step-by-step procedures in, an accessible site and printable
//! handouts out, checked before anything is published.
//!
//! How a file flows: [`site::load`] finds the files and [`parse`]s each into
//! the [`model`]; [`check`] applies the rules to the model; the commands in
//! [`cmd`] report the [`diag`]nostics (and, later, render).

pub mod cache;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diag;
pub mod images;
pub mod import;
pub mod memo;
pub mod model;
pub mod parse;
pub mod paths;
pub mod publish;
pub mod render;
pub mod serve;
pub mod site;
pub mod theme;
pub mod timing;
