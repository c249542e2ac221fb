use crate::domain::agreement::document::Document;
pub fn render(doc: &Document) -> Vec<u8> {
    doc.plain_text().into_bytes()
}
