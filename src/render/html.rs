use crate::domain::agreement::diff::DocumentDiff;
use crate::domain::agreement::document::Document;
use crate::domain::lang::Lang;
pub fn render(doc: &Document) -> String {
    doc.plain_text()
}
pub fn render_diff(_d: &DocumentDiff, _l: Lang) -> String {
    String::new()
}
