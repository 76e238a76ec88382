// Lets the Korean morphology tests be reported as ignored (with the reason) when no
// dictionary is configured, instead of passing vacuously.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(jangteo_ko_dic)");
    println!("cargo::rerun-if-env-changed=JANGTEO_KO_DIC");
    if std::env::var_os("JANGTEO_KO_DIC").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=jangteo_ko_dic");
    }
}
