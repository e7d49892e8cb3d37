use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Token, Type};

/// Which attribute is being expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Functional,
    Lifecycle,
    BackupVerify,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Functional => "#[ccci::functional]",
            Kind::Lifecycle => "#[ccci::lifecycle]",
            Kind::BackupVerify => "#[ccci::backup_verify]",
        }
    }
}

/// `before = <op>` or `after = <op>`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub before: bool,
    pub op: String,
}

const OPS: [&str; 4] = ["install", "upgrade", "backup", "restore"];

/// Parses, checks and renders; every error found is reported, not just the first.
pub fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let msg = format!(
                "{} goes on a function, e.g. `async fn name(ctx: &HookCtx) -> ccci::Result`",
                kind.attr()
            );
            let err = syn::Error::new(e.span(), msg).to_compile_error();
            return quote! { #err #item };
        }
    };
    let (when, mut errors) = parse_args(kind, &args);
    errors.extend(check(kind, when.as_ref(), &func));
    if errors.is_empty() {
        return render(kind, when.as_ref(), &func);
    }
    let errs = errors.into_iter().map(|e| e.to_compile_error());
    quote! { #(#errs)* #func }
}

/// The attribute's arguments: none, except `before = op` / `after = op` for lifecycle.
pub fn parse_args(kind: Kind, args: &TokenStream) -> (Option<When>, Vec<syn::Error>) {
    if kind != Kind::Lifecycle {
        return match args.is_empty() {
            true => (None, vec![]),
            false => (
                None,
                vec![syn::Error::new(
                    args.span(),
                    format!("{} takes no arguments", kind.attr()),
                )],
            ),
        };
    }
    match lifecycle_when(args) {
        Ok(when) => (Some(when), vec![]),
        Err(e) => (None, vec![e]),
    }
}

/// `before = op` or `after = op`, said exactly once, of an op that exists then.
fn lifecycle_when(args: &TokenStream) -> Result<When, syn::Error> {
    let usage = "write `#[ccci::lifecycle(before = backup)]` or `#[ccci::lifecycle(after = upgrade)]` (ops: install, upgrade, backup, restore)";
    let error = |span: Span, what: String| syn::Error::new(span, format!("{what}: {usage}"));
    let parsed = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated
        .parse2(args.clone())
        .map_err(|e| error(e.span(), e.to_string()))?;
    let items: Vec<_> = parsed.into_iter().collect();
    let [item] = items.as_slice() else {
        let span = items.get(1).map_or_else(Span::call_site, |i| i.span());
        return Err(error(span, "say exactly once when this runs".into()));
    };
    let key = item
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let before = match key.as_str() {
        "before" => true,
        "after" => false,
        _ => return Err(error(item.path.span(), format!("unknown key `{key}`"))),
    };
    let op = match &item.value {
        syn::Expr::Path(p) => p
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default(),
        other => return Err(error(other.span(), "expected an op name".into())),
    };
    if !OPS.contains(&op.as_str()) {
        return Err(error(item.value.span(), format!("`{op}` is not an op")));
    }
    if before && op == "install" {
        let msg = "nothing exists before install: use `after = install` to act on the freshly installed app";
        return Err(syn::Error::new(item.value.span(), msg));
    }
    Ok(When { before, op })
}

/// Every problem with the function's signature.
pub fn check(kind: Kind, when: Option<&When>, func: &ItemFn) -> Vec<syn::Error> {
    let attr = kind.attr();
    let mut errors = Vec::new();
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(sig.generics.span(), format!("a {attr} function cannot be generic: the runner calls it with fixtures of fixed types")));
    }
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(
            c.span(),
            format!("a {attr} function cannot be `const`"),
        ));
    }
    if let Some(a) = &sig.abi {
        errors.push(syn::Error::new(
            a.span(),
            format!("a {attr} function cannot have an `extern` ABI"),
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new(
            v.span(),
            format!("a {attr} function cannot be variadic"),
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(r.span(), format!("a {attr} function is a free function, not a method: remove `self`"))),
            FnArg::Typed(pt) => match &*pt.ty {
                Type::Reference(r) if r.mutability.is_none() && is_snapshot(&r.elem) => {
                    if let Some(w) = when.filter(|w| !snapshot_exists(w)) {
                        let when = if w.before { "before" } else { "after" };
                        errors.push(syn::Error::new_spanned(
                            r,
                            format!("no backup exists {when} {}, so there is no `&Snapshot` to take: attach the function to `after = backup` or to the restore", w.op),
                        ));
                    }
                }
                Type::Reference(r) if r.mutability.is_none() => {}
                Type::Reference(r) => errors.push(syn::Error::new(
                    r.span(),
                    "ccci fixtures are shared, not mutable: take `&T`, not `&mut T` (OpState has interior mutability)",
                )),
                other => {
                    let ty = quote!(#other).to_string();
                    errors.push(syn::Error::new(other.span(), format!("ccci fixtures are borrowed: write `&{ty}`, e.g. `ctx: &HookCtx`")));
                }
            },
        }
    }
    if let ReturnType::Default = sig.output {
        let want = if kind == Kind::BackupVerify {
            "`-> ccci::Result` (`Ok(())` accepts the snapshot; an error rejects it, and ccci takes the backup again)"
        } else {
            "`-> ccci::Result`"
        };
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!("a {attr} function returns a Result so failures carry a message: add {want}"),
        ));
    }
    errors
}

/// The function as written, plus its registration in `ccci`'s lists.
pub fn render(kind: Kind, when: Option<&When>, func: &ItemFn) -> TokenStream {
    let name = &func.sig.ident;
    let runner = format_ident!("__ccci_run_{}", name);
    let fixtures = func.sig.inputs.iter().filter_map(|i| match i {
        FnArg::Typed(pt) => match &*pt.ty {
            Type::Reference(r) => {
                let elem = &r.elem;
                Some(quote_spanned! { elem.span()=> <#elem as ::ccci::Fixture>::get(__fx)? })
            }
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    let call = match func.sig.asyncness {
        Some(_) => quote! { #name(#(#fixtures),*).await },
        None => quote! { #name(#(#fixtures),*) },
    };
    let ret_span = match &func.sig.output {
        ReturnType::Type(_, t) => t.span(),
        ReturnType::Default => Span::call_site(),
    };
    let (slice, def) = match kind {
        Kind::BackupVerify => (quote!(BACKUP_VERIFY), quote!(VerifyDef)),
        Kind::Lifecycle => (quote!(LIFECYCLE), quote!(LifecycleDef)),
        Kind::Functional => (quote!(FUNCTIONAL), quote!(TestDef)),
    };
    // The returned value is bound at the return type's span, so a type that is not a
    // Result is reported there, not at the attribute.
    let returned = quote_spanned! { ret_span=> __ccci_returned };
    let converted = quote! {{
        let #returned = #call;
        ::ccci::__private::outcome(#returned)
    }};
    // Two steps of one name would be one line in results.json and one libtest trial. An
    // exported macro named after the step lives at the crate root whatever module the
    // function is in, so a second one is an error (E0428) at its name, even in `cargo check`.
    let step = match (kind, when) {
        (Kind::Functional, _) => format!("functional__{name}"),
        (Kind::Lifecycle, Some(w)) => format!("{}__{name}", w.op),
        _ => format!("backup_verify__{name}"),
    };
    let marker = format_ident!("ccci_step__{}", step, span = name.span());
    let unique = quote! {
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #marker { () => {} }
    };
    let timing = match when {
        Some(w) => {
            let before = w.before;
            let op = format_ident!("{}", capitalise(&w.op));
            quote! { before: #before, op: ::ccci::core::Op::#op, }
        }
        None => quote! {},
    };
    quote! {
        #func

        #unique

        const _: () = {
            fn #runner(__fx: &::ccci::__private::Fixtures) -> ::ccci::__private::BoxFuture<'_, ::ccci::Result> {
                ::std::boxed::Box::pin(async move { #converted })
            }

            #[::ccci::__private::linkme::distributed_slice(::ccci::__private::#slice)]
            #[linkme(crate = ::ccci::__private::linkme)]
            static __REGISTERED: ::ccci::__private::#def = ::ccci::__private::#def {
                name: ::core::stringify!(#name),
                file: ::core::file!(),
                line: ::core::line!(),
                #timing
                run: #runner,
            };
        };
    }
}

/// Whether `ty` names the `Snapshot` fixture (`Snapshot`, `ccci::Snapshot`).
fn is_snapshot(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Snapshot"))
}

/// Whether a backup can exist when a lifecycle function attached at `w` runs: from the
/// backup's end on.
fn snapshot_exists(w: &When) -> bool {
    matches!(
        (w.op.as_str(), w.before),
        ("backup", false) | ("restore", _)
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(kind: Kind, src: &str) -> Vec<String> {
        let f: ItemFn = syn::parse_str(src).unwrap();
        check(kind, None, &f)
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    fn args(src: &str) -> (Option<When>, Vec<String>) {
        let (w, e) = parse_args(Kind::Lifecycle, &src.parse().unwrap());
        (w, e.into_iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn accepts_async_and_sync_functions_with_borrowed_fixtures() {
        assert!(errors(
            Kind::Functional,
            "async fn t(ctx: &HookCtx, s: &OpState) -> ccci::Result { Ok(()) }"
        )
        .is_empty());
        assert!(errors(
            Kind::Functional,
            "fn t(ctx: &HookCtx) -> Result<(), String> { Ok(()) }"
        )
        .is_empty());
        assert!(errors(
            Kind::BackupVerify,
            "fn t(s: &Snapshot) -> ccci::Result { Ok(()) }"
        )
        .is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_fix() {
        let e = errors(
            Kind::Functional,
            "fn t<T>(ctx: HookCtx, s: &mut OpState) {}",
        );
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].contains("cannot be generic"));
        assert!(e[1].contains("write `&HookCtx`"));
        assert!(e[2].contains("not `&mut T`"));
        assert!(e[3].contains("add `-> ccci::Result`"));
        assert!(errors(Kind::BackupVerify, "fn t() {}")[0].contains("an error rejects it"));
    }

    #[test]
    fn a_snapshot_is_refused_where_no_backup_exists_yet() {
        let f: ItemFn =
            syn::parse_str("fn t(s: &ccci::Snapshot) -> ccci::Result { Ok(()) }").unwrap();
        let at = |op: &str, before: bool| {
            let w = When {
                before,
                op: op.into(),
            };
            check(Kind::Lifecycle, Some(&w), &f)
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        };
        assert!(at("upgrade", false)[0].contains("no backup exists after upgrade"));
        assert!(at("backup", true)[0].contains("no backup exists before backup"));
        assert!(at("install", false)[0].contains("`&Snapshot`"));
        assert!(at("backup", false).is_empty() && at("restore", true).is_empty());
        assert!(check(Kind::Functional, None, &f).is_empty());
    }

    #[test]
    fn lifecycle_arguments() {
        assert_eq!(
            args("before = backup").0,
            Some(When {
                before: true,
                op: "backup".into()
            })
        );
        assert_eq!(
            args("after = install").0,
            Some(When {
                before: false,
                op: "install".into()
            })
        );
        assert!(args("before = install").1[0].contains("nothing exists before install"));
        assert!(args("during = backup").1[0].contains("unknown key `during`"));
        assert!(args("before = deploy").1[0].contains("`deploy` is not an op"));
        assert!(args("").1[0].contains("exactly once"));
        assert!(args("before = backup, after = restore").1[0].contains("exactly once"));
    }

    #[test]
    fn other_attributes_take_no_arguments() {
        let (_, e) = parse_args(Kind::Functional, &quote!(retries = 3));
        assert!(e[0]
            .to_string()
            .contains("#[ccci::functional] takes no arguments"));
    }

    #[test]
    fn registers_under_the_function_name() {
        let f: ItemFn =
            syn::parse_str("async fn serves(ctx: &HookCtx) -> ccci::Result { Ok(()) }").unwrap();
        let out = render(Kind::Functional, None, &f).to_string();
        assert!(out.contains("stringify ! (serves)"), "{out}");
        assert!(
            out.contains("serves (< HookCtx as :: ccci :: Fixture > :: get (__fx) ?) . await"),
            "{out}"
        );
        assert!(out.contains(":: ccci :: __private :: FUNCTIONAL"), "{out}");
        assert!(
            out.contains("macro_rules ! ccci_step__functional__serves"),
            "{out}"
        );
        let w = When {
            before: true,
            op: "backup".into(),
        };
        let out = render(Kind::Lifecycle, Some(&w), &f).to_string();
        assert!(
            out.contains("before : true , op : :: ccci :: core :: Op :: Backup"),
            "{out}"
        );
        assert!(out.contains(":: ccci :: __private :: LIFECYCLE"), "{out}");
    }
}
