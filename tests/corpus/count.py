#!/usr/bin/env python3
"""Counts CSDL elements of every corpus document with xml.etree.ElementTree, independently of dualsync's
Rust reader. Output: JSON {relative path: {count name: n} or {"error": "..."}} on stdout."""
import json, os, sys
import xml.etree.ElementTree as ET

EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
HERE = os.path.dirname(os.path.abspath(__file__))


def counts(path):
    root = ET.parse(path).getroot()
    if root.tag != EDMX + "Edmx":
        return {"error": "not OData v4 EDMX: root " + root.tag}
    c = dict.fromkeys(["schemas", "entity_types", "complex_types", "enum_types", "type_definitions", "terms",
                       "entity_containers", "entity_sets", "singletons", "actions", "functions", "action_imports",
                       "function_imports", "properties", "navigation_properties", "navigation_property_bindings"], 0)
    for schema in root.iter(EDM + "Schema"):
        c["schemas"] += 1
        for child in schema:
            tag = child.tag[len(EDM):] if child.tag.startswith(EDM) else None
            key = {"EntityType": "entity_types", "ComplexType": "complex_types", "EnumType": "enum_types",
                   "TypeDefinition": "type_definitions", "Term": "terms", "EntityContainer": "entity_containers",
                   "Action": "actions", "Function": "functions"}.get(tag)
            if key:
                c[key] += 1
            if tag in ("EntityType", "ComplexType"):
                c["properties"] += len(child.findall(EDM + "Property"))
                c["navigation_properties"] += len(child.findall(EDM + "NavigationProperty"))
            if tag == "EntityContainer":
                for item in child:
                    k = {EDM + "EntitySet": "entity_sets", EDM + "Singleton": "singletons",
                         EDM + "ActionImport": "action_imports", EDM + "FunctionImport": "function_imports"}.get(item.tag)
                    if k:
                        c[k] += 1
                    c["navigation_property_bindings"] += len(item.findall(EDM + "NavigationPropertyBinding"))
    return c


def main():
    out = {}
    for folder, _, files in sorted(os.walk(HERE)):
        for name in sorted(files):
            if name.endswith((".xml", ".csdl")):
                path = os.path.join(folder, name)
                out[os.path.relpath(path, HERE)] = counts(path)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
