use samverkan::domain::lang::Lang;
use samverkan::render;
use samverkan::templates::TemplateSet;

#[test]
fn scratch() {
    let set = TemplateSet::builtin().unwrap_or_else(|e| panic!("{e:#?}"));
    for (name, _) in render::EXAMPLES {
        for lang in [Lang::Sv, Lang::En] {
            let d = render::example(name, lang).unwrap();
            let m = render::render_markup(&set, &d).unwrap_or_else(|e| panic!("{name}: {e}"));
            if *name == "three-party" && lang == Lang::Sv {
                println!("{m}");
            }
            render::build_document(&set, &d).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
