"""Renders Jinja templates with the real Jinja2, set up as Ansible's template module (trim_blocks,
trailing newline kept, undefined values errors as Ansible's), with Ansible's common filters written on the Python
libraries Ansible uses (json, PyYAML, shlex, re, base64, hashlib). Reference for
test/playbook/jinja-differential.test.ts.

stdin: {"dir": FOLDER, "cases": [{"name": "x.j2", "vars": {...}}]}
stdout: {"x.j2": {"out": TEXT} | {"error": MESSAGE}}
"""
import base64, hashlib, json, os, re, shlex, sys
import jinja2, yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined


class AnsibleUndefined(StrictUndefined):
    """Ansible's undefined: an error when used, but `a.b is defined` is false when a is undefined."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self


def to_bool(a):
    if isinstance(a, bool):
        return a
    if a is None:
        return False
    if isinstance(a, str):
        a = a.lower()
    return a in ('yes', 'on', '1', 'true', 1)


def ternary(value, true_val, false_val, none_val=None):
    if value is None and none_val is not None:
        return none_val
    return true_val if bool(value) else false_val


def regex_replace(value='', pattern='', replacement='', ignorecase=False, multiline=False, count=0):
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.compile(pattern, flags=flags).sub(replacement, value, count)


def regex_search(value, regex, *args, **kwargs):
    groups = []
    for arg in args:
        if arg.startswith('\\g'):
            groups.append(re.match(r'\\g<(\S+)>', arg).group(1))
        elif arg.startswith('\\'):
            groups.append(int(re.match(r'\\(\d+)', arg).group(1)))
    flags = (re.I if kwargs.get('ignorecase') else 0) | (re.M if kwargs.get('multiline') else 0)
    m = re.search(regex, value, flags)
    if m:
        if not groups:
            return m.group()
        return [m.group(g) for g in groups]


def dict2items(d, key_name='key', value_name='value'):
    return [{key_name: k, value_name: v} for k, v in d.items()]


def items2dict(l, key_name='key', value_name='value'):
    return dict((x[key_name], x[value_name]) for x in l)


def combine(*terms, recursive=False):
    def merge(a, b):
        out = dict(a)
        for k, v in b.items():
            if recursive and isinstance(out.get(k), dict) and isinstance(v, dict):
                out[k] = merge(out[k], v)
            else:
                out[k] = v
        return out
    out = {}
    for t in terms:
        out = merge(out, t)
    return out


def flatten(l, levels=None, skip_nulls=True):
    out = []
    for x in l:
        if skip_nulls and x in (None, 'None', 'null'):
            continue
        if isinstance(x, list) and (levels is None or levels > 0):
            out.extend(flatten(x, None if levels is None else levels - 1, skip_nulls))
        else:
            out.append(x)
    return out


def unique(l):
    out = []
    for x in l:
        if x not in out:
            out.append(x)
    return out


def comment(text, style='plain', **kw):
    styles = {'plain': {'decoration': '# '}, 'erlang': {'decoration': '% '}, 'c': {'decoration': '// '},
              'cblock': {'beginning': '/*', 'decoration': ' * ', 'end': ' */'},
              'xml': {'beginning': '<!--', 'decoration': ' - ', 'end': '-->'}}
    sp = styles[style]
    prepostfix = kw['decoration'] if 'decoration' in kw else sp['decoration']
    p = {'newline': '\n', 'beginning': '', 'prefix': prepostfix.rstrip(), 'prefix_count': 1, 'decoration': '',
         'postfix': prepostfix.rstrip(), 'postfix_count': 1, 'end': ''}
    p.update(sp)
    p.update(kw)
    str_beginning = p['beginning'] + p['newline'] if p['beginning'] else ''
    str_prefix = ''
    if p['prefix']:
        str_prefix = (p['prefix'] + p['newline'] if p['prefix'] != p['newline'] else p['newline']) * int(p['prefix_count'])
    str_text = ('%s%s' % (p['decoration'], text.replace(p['newline'], '%s%s' % (p['newline'], p['decoration'])))).replace(
        '%s%s' % (p['decoration'], p['newline']), '%s%s' % (p['decoration'].rstrip(), p['newline']))
    str_postfix = p['newline'].join([''] + [p['postfix'] for x in range(p['postfix_count'])])
    str_end = p['newline'] + p['end'] if p['end'] else ''
    return str_beginning + str_prefix + str_text + str_postfix + str_end


def version_test(value, version, operator='eq'):
    from packaging.version import Version  # noqa: only loose numeric versions are compared in the fixtures
    ops = {'<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne'}
    op = ops.get(operator, operator)
    a, b = Version(str(value)), Version(str(version))
    return {'lt': a < b, 'le': a <= b, 'gt': a > b, 'ge': a >= b, 'eq': a == b, 'ne': a != b}[op]


def mandatory(a, msg=None):
    if isinstance(a, jinja2.Undefined):
        raise jinja2.UndefinedError(msg or 'Mandatory variable not defined.')
    return a


FILTERS = {
    'bool': to_bool,
    'to_json': lambda a, *args, **kw: json.dumps(a, *args, **kw),
    'to_nice_json': lambda a, indent=4, sort_keys=True: json.dumps(a, indent=indent, sort_keys=sort_keys, separators=(',', ': ')),
    'to_yaml': lambda a, **kw: yaml.safe_dump(a, allow_unicode=True, default_flow_style=kw.pop('default_flow_style', None), **kw),
    'to_nice_yaml': lambda a, indent=4, **kw: yaml.safe_dump(a, indent=indent, allow_unicode=True, default_flow_style=False, **kw),
    'from_json': json.loads,
    'from_yaml': yaml.safe_load,
    'regex_replace': regex_replace,
    'regex_search': regex_search,
    'regex_findall': lambda v, r, ignorecase=False, multiline=False: re.findall(r, v, (re.I if ignorecase else 0) | (re.M if multiline else 0)),
    'regex_escape': re.escape,
    'basename': os.path.basename,
    'dirname': os.path.dirname,
    'quote': lambda a: shlex.quote(str(a)),
    'comment': comment,
    'mandatory': mandatory,
    'ternary': ternary,
    'dict2items': dict2items,
    'items2dict': items2dict,
    'unique': unique,
    'b64encode': lambda s: base64.b64encode(s.encode()).decode(),
    'b64decode': lambda s: base64.b64decode(s).decode(),
    'hash': lambda s, t='sha1': hashlib.new(t, s.encode()).hexdigest(),
    'checksum': lambda s: hashlib.sha1(s.encode()).hexdigest(),
    'combine': combine,
    'flatten': flatten,
    'zip': lambda *a: list(zip(*a)),
    'split': lambda s, sep=None, maxsplit=-1: s.split(sep, maxsplit),
}

TESTS = {
    'version': version_test,
    'version_compare': version_test,
    'match': lambda v, p, ignorecase=False, multiline=False: bool(re.match(p, v, (re.I if ignorecase else 0) | (re.M if multiline else 0))),
    'search': lambda v, p, ignorecase=False, multiline=False: bool(re.search(p, v, (re.I if ignorecase else 0) | (re.M if multiline else 0))),
}


def main():
    req = json.load(sys.stdin)
    env = Environment(loader=FileSystemLoader(req['dir']), trim_blocks=True, keep_trailing_newline=True, undefined=AnsibleUndefined)
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    out = {}
    for case in req['cases']:
        try:
            with open(os.path.join(req['dir'], case['name']), newline='') as f:
                text = f.read()
            e = env
            if text.startswith('#jinja2:'):  # Ansible's per-template overrides
                line, text = text.split('\n', 1)
                opts = {}
                for pair in line[len('#jinja2:'):].split(','):
                    k, v = [x.strip() for x in pair.split(':', 1)]
                    opts[k] = v.lower() in ('true', 'yes', '1')
                e = env.overlay(**opts)
            out[case['name']] = {'out': e.from_string(text).render(**case['vars'])}
        except Exception as e:  # noqa: the message is the result
            out[case['name']] = {'error': '%s: %s' % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


main()
