use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

/// Parses, checks and renders; every error found is reported, not just the first.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(e.span(), "#[ccci::functional] goes on a function: `async fn name(ctx: &HookCtx) -> ccci::Result`");
            let err = err.to_compile_error();
            return quote! { #err #item };
        }
    };
    let mut errors = check(&args, &func);
    match errors.is_empty() {
        true => render(&func),
        false => {
            let first = errors.remove(0);
            let combined = errors.into_iter().fold(first, |mut a, e| {
                a.combine(e);
                a
            });
            let err = combined.to_compile_error();
            quote! { #err #func }
        }
    }
}

/// Every problem with the attribute's arguments and the function's signature.
pub fn check(args: &TokenStream, func: &ItemFn) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    if !args.is_empty() {
        errors.push(syn::Error::new(
            args.span(),
            "#[ccci::functional] takes no arguments",
        ));
    }
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(sig.generics.span(), "a #[ccci::functional] test cannot be generic: the runner calls it with fixtures of fixed types"));
    }
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(
            c.span(),
            "a #[ccci::functional] test cannot be `const`",
        ));
    }
    if let Some(a) = &sig.abi {
        errors.push(syn::Error::new(
            a.span(),
            "a #[ccci::functional] test cannot have an `extern` ABI",
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new(
            v.span(),
            "a #[ccci::functional] test cannot be variadic",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(r.span(), "a #[ccci::functional] test is a free function, not a method: remove `self`")),
            FnArg::Typed(pt) => match &*pt.ty {
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
        errors.push(syn::Error::new(
            sig.ident.span(),
            "a #[ccci::functional] test returns a Result so failures carry a message: add `-> ccci::Result`",
        ));
    }
    errors
}

/// The function as written, plus its registration in `ccci`'s test list.
pub fn render(func: &ItemFn) -> TokenStream {
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
    let call = if func.sig.asyncness.is_some() {
        quote! { #name(#(#fixtures),*).await }
    } else {
        quote! { #name(#(#fixtures),*) }
    };
    let ret_span = match &func.sig.output {
        ReturnType::Type(_, t) => t.span(),
        ReturnType::Default => Span::call_site(),
    };
    let outcome = quote_spanned! { ret_span=> ::ccci::__private::outcome(#call) };
    quote! {
        #func

        const _: () = {
            fn #runner(__fx: &::ccci::__private::Fixtures) -> ::ccci::__private::BoxFuture<'_, ::ccci::Result> {
                ::std::boxed::Box::pin(async move { #outcome })
            }

            #[::ccci::__private::linkme::distributed_slice(::ccci::__private::FUNCTIONAL)]
            #[linkme(crate = ::ccci::__private::linkme)]
            static __CCCI_TEST: ::ccci::__private::TestDef = ::ccci::__private::TestDef {
                name: ::core::stringify!(#name),
                file: ::core::file!(),
                line: ::core::line!(),
                run: #runner,
            };
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str) -> Vec<String> {
        let f: ItemFn = syn::parse_str(src).unwrap();
        check(&TokenStream::new(), &f)
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn accepts_async_and_sync_tests_with_borrowed_fixtures() {
        assert!(
            errors("async fn t(ctx: &HookCtx, s: &OpState) -> ccci::Result { Ok(()) }").is_empty()
        );
        assert!(errors("fn t(ctx: &HookCtx) -> Result<(), String> { Ok(()) }").is_empty());
        assert!(errors("async fn t() -> ccci::Result { Ok(()) }").is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_fix() {
        let e = errors("fn t<T>(ctx: HookCtx, s: &mut OpState) {}");
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].contains("cannot be generic"));
        assert!(e[1].contains("write `&HookCtx`"));
        assert!(e[2].contains("not `&mut T`"));
        assert!(e[3].contains("add `-> ccci::Result`"));
    }

    #[test]
    fn rejects_arguments_and_methods() {
        let f: ItemFn = syn::parse_str("fn t() -> ccci::Result { Ok(()) }").unwrap();
        let e = check(&quote!(retries = 3), &f);
        assert!(e[0].to_string().contains("takes no arguments"));
        assert!(errors("fn t(&self) -> ccci::Result { Ok(()) }")[0].contains("not a method"));
    }

    #[test]
    fn registers_under_the_function_name_and_awaits_async_tests() {
        let f: ItemFn =
            syn::parse_str("async fn serves(ctx: &HookCtx) -> ccci::Result { Ok(()) }").unwrap();
        let out = render(&f).to_string();
        assert!(out.contains("stringify ! (serves)"), "{out}");
        assert!(
            out.contains("serves (< HookCtx as :: ccci :: Fixture > :: get (__fx) ?) . await"),
            "{out}"
        );
        assert!(
            out.contains("distributed_slice (:: ccci :: __private :: FUNCTIONAL)"),
            "{out}"
        );
    }
}
