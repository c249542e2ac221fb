//! samverkan: runs collaborations between industry and Swedish national quality registries.
pub mod domain;
pub mod render;
pub mod templates;
