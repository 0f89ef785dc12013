package reject

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// All lists every Reason constant declared in this package, exactly once: a reason added without it would be
// refused by replay's --reason.
func TestAllListsEveryReason(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Reason
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			if len(name) > 8 && name[len(name)-8:] == "_test.go" {
				continue
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
						continue
					}
					for _, v := range vs.Values {
						lit := v.(*ast.BasicLit)
						declared = append(declared, Reason(lit.Value[1:len(lit.Value)-1]))
					}
				}
			}
		}
	}
	all := All()
	if len(declared) < 10 {
		t.Fatalf("found only %d Reason constants: the parse is wrong", len(declared))
	}
	slices.Sort(declared)
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if !slices.Equal(declared, sorted) {
		t.Errorf("All() = %v\ndeclared = %v", sorted, declared)
	}
	for _, r := range declared {
		if !Known(r) {
			t.Errorf("Known(%q) = false", r)
		}
	}
	if Known("facebok_rejected") || Known("") {
		t.Error("Known accepts a code that is not one")
	}
}
