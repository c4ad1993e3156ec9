#!/usr/bin/env python3
"""build-fo-dualwrite.py - fo-dualwrite.xml = fo-dualwrite-core.xml + the F&O reference-data entities.

The corpus's fo-dualwrite-core.xml holds the 34 F&O entities of the standard dual-write maps; the
transcription (shared/corpus/maps/dualwrite-standard-maps.txt) also lists 20 reference-data maps ("extra")
whose F&O entity it does not name. 17 of them have an entity set in the real schema facts
(shared/corpus/fo/captured/fo-real-schema-facts.json) whose properties are exactly, or contain, the
transcribed fields; this script copies those 17 EntityTypes (keys, properties, the enums they use; no
navigation properties, whose targets are outside this document) from the near-real document that
shared/tools/build-fo-from-facts.py rebuilds from the facts, and inserts them, with their EntitySets,
into fo-dualwrite-core.xml. The other 3 (Configurations, Product dimension groups, Storage dimension
groups) have no entity set in the facts and stay out (their map files say so).

Usage (from the repository root; deterministic, stdlib only):
  python3 ../shared/tools/build-fo-from-facts.py --out /tmp/fo-near-real.xml
  python3 generated/metadata/build-fo-dualwrite.py /tmp/fo-near-real.xml \
      tests/corpus/fo/fo-dualwrite-core.xml generated/metadata/fo-dualwrite.xml
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = 'Microsoft.Dynamics.DataEntities'
E = '{http://docs.oasis-open.org/odata/ns/edm}'
# transcription map title -> entity set in the real schema facts
REFERENCE_SETS = {
    'Exchange rate currency pair': 'ExchangeRateCurrencyPairs',
    'Exchange rate type': 'ExchangeRateTypes',
    'Decision making roles': 'DecisionMakingRoles',
    'Complimentary closings': 'ComplimentaryClosings',
    'Contact person titles': 'SalesContactPersonTitles',
    'Colors': 'ProductColors',
    'Loyalty levels': 'LoyaltyLevels',
    'Personal character types': 'PersonalCharacterTypes',
    'Price customer groups': 'PriceCustomerGroups',
    'Product categories': 'ProductCategories',
    'Product category hierarchies': 'ProductCategoryHierarchies',
    'Sales order origin codes': 'SalesOrderOriginCodes',
    'Salutations': 'Salutations',
    'Sizes': 'ProductSizes',
    'Styles': 'ProductStyles',
    'Tracking dimension groups': 'TrackingDimensionGroups',
    'Warehouses': 'Warehouses',
}


def attrs(el, names):
    return ''.join(f' {n}="{el.get(n)}"' for n in names if el.get(n) is not None)


def main(near_real, core, out):
    root = ET.parse(near_real).getroot()
    schema = next(s for s in root.iter(E + 'Schema') if s.get('Namespace') == NS)
    container = schema.find(E + 'EntityContainer')
    sets = {s.get('Name'): s for s in container.findall(E + 'EntitySet')}
    types = {t.get('Name'): t for t in schema.findall(E + 'EntityType')}
    enums = {t.get('Name'): t for t in schema.findall(E + 'EnumType')}
    core_text = open(core, encoding='utf-8').read()
    core_names = set(re.findall(r'<(?:EntityType|EnumType|ComplexType) Name="([^"]+)"', core_text))
    # The near-real document restores real enum names (InventProfileType_RU) where fo-dualwrite-core.xml
    # kept the facts' form (InventProfileTypeRu): one enum, so the core's name is used.
    core_enum = {n.replace('_', '').lower(): n for n in core_names}

    type_lines, set_lines, used_enums = [], [], []
    for title, set_name in sorted(REFERENCE_SETS.items(), key=lambda kv: kv[1]):
        entity_set = sets[set_name]
        type_name = entity_set.get('EntityType').rsplit('.', 1)[1]
        if type_name in core_names:
            sys.exit(f'{type_name} is already in {core}')
        entity = types[type_name]
        type_lines.append(f'      <!-- dual-write reference-data map "{title}" (transcription "extra") -->')
        type_lines.append(f'      <EntityType Name="{type_name}">')
        key = entity.find(E + 'Key')
        if key is not None:
            type_lines.append('        <Key>')
            for ref in key.findall(E + 'PropertyRef'):
                type_lines.append(f'          <PropertyRef Name="{ref.get("Name")}" />')
            type_lines.append('        </Key>')
        for prop in entity.findall(E + 'Property'):
            ptype = prop.get('Type')
            if ptype.startswith(NS + '.'):
                enum = ptype[len(NS) + 1:]
                known = core_enum.get(enum.replace('_', '').lower())
                if known is not None:
                    prop.set('Type', f'{NS}.{known}')
                elif enum not in used_enums:
                    used_enums.append(enum)
            type_lines.append(f'        <Property{attrs(prop, ["Name", "Type", "Nullable"])} />')
        type_lines.append('      </EntityType>')
        set_lines.append(f'        <EntitySet Name="{set_name}" EntityType="{NS}.{type_name}" />')
    for name in used_enums:
        enum = enums[name]
        type_lines.append(f'      <EnumType Name="{name}">')
        for member in enum.findall(E + 'Member'):
            type_lines.append(f'        <Member{attrs(member, ["Name", "Value"])} />')
        type_lines.append('      </EnumType>')

    note = ('<!-- fo-dualwrite.xml: this document is fo-dualwrite-core.xml (unchanged below) plus the EntityTypes '
            'and EntitySets of 17 dual-write reference-data maps, copied from the near-real F&O document rebuilt '
            'from real schema facts (generated/metadata/build-fo-dualwrite.py says how). -->\n')
    first_comment = core_text.index('<!--')
    text = core_text[:first_comment] + note + core_text[first_comment:]
    marker = '      <EntityContainer Name="Resources">\n'
    at = text.index(marker)
    text = text[:at] + '\n'.join(type_lines) + '\n' + text[at:]
    end = text.index('      </EntityContainer>')
    text = text[:end] + '\n'.join(set_lines) + '\n' + text[end:]
    ET.fromstring(text.encode('utf-8'))  # still well-formed
    with open(out, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    print(f'{out}: {len(REFERENCE_SETS)} entity types, {len(used_enums)} enum types added')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
