//! samverkan: runs collaborations between industry and Swedish national quality registries.
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod render;
pub mod rulebook;
pub mod startup;
pub mod templates;
pub mod web;
