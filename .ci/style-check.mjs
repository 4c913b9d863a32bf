// The STYLE.md rules that a script can check (rules 2 and 15): line width, function length,
// console.log in library code, import cycles, and what storage/ may import. Plain Node, no deps.
//
// Usage: node .ci/style-check.mjs [projectRoot]   (exit 0: all pass, 1: violations, 2: crash)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const MAX_LINE_COLUMNS = 100;
const MAX_FUNCTION_LINES = 70;
const SCANNED_DIRS = ['src', 'storage', 'bench', 'test'];
const LIBRARY_DIRS = ['src', 'storage'];
const STORAGE_ALLOWED_PACKAGES = new Set(['msgpackr', 'fs-extra']);

// A `(...) {` preceded by one of these words is a control block, not a function body.
const CONTROL_WORDS = wordSet(
  'if for while switch catch with return typeof await yield new in of do else case throw void ' +
    'delete instanceof super import',
);
// After one of these words a `/` starts a regular expression, not a division.
const REGEX_AFTER_WORDS = wordSet(
  'return typeof instanceof in of new delete void throw case do else yield await',
);
const REGEX_AFTER_CHARS = new Set('(,=:[!&|?{};+-*%<>~^');

function wordSet(words) {
  return new Set(words.split(' '));
}

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const violations = [];

function report(file, line, rule, message) {
  violations.push({ file, line, rule, message });
}

function listTsFiles(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listTsFiles(full, out);
    else if (entry.isFile() && /\.(c|m)?ts$/.test(entry.name)) out.push(full);
  }
  return out;
}

const isIdentChar = (c) => c !== undefined && /[\w$#]/.test(c);

/**
 * Returns a copy of `src` of the same length in which comments, the contents of string and
 * template literals (not `${}` code), and regex bodies are blanked to spaces, newlines kept.
 * String delimiters ' and " are kept so import specifiers can be located in the original.
 */
function maskCode(src) {
  const lexer = {
    src,
    out: src.split(''),
    braceKinds: [], // 'b': code brace, 't': `${` of a template literal
    lastChar: '', // last significant code character
    lastWord: '', // set when the last significant token was a word
  };
  let i = 0;
  while (i < src.length) i = maskStep(lexer, i);
  return lexer.out.join('');
}

function blank(lexer, from, to) {
  for (let k = from; k < to; k++) if (lexer.out[k] !== '\n') lexer.out[k] = ' ';
}

function setLast(lexer, char, word = '') {
  lexer.lastChar = char;
  lexer.lastWord = word;
}

// Masks the token at `i` if it is not code; returns the index of the next token.
function maskStep(lexer, i) {
  const { src } = lexer;
  const n = src.length;
  const c = src[i];
  const next = src[i + 1];
  if (c === '/' && next === '/') {
    const end = src.indexOf('\n', i);
    blank(lexer, i, end < 0 ? n : end);
    return end < 0 ? n : end;
  }
  if (c === '/' && next === '*') {
    const close = src.indexOf('*/', i + 2);
    const end = close < 0 ? n : close + 2;
    blank(lexer, i, end);
    return end;
  }
  if (c === "'" || c === '"') {
    let k = i + 1;
    while (k < n && src[k] !== c && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
    blank(lexer, i + 1, Math.min(k, n));
    setLast(lexer, c);
    return k + 1;
  }
  if (c === '`') {
    setLast(lexer, '`');
    return scanTemplate(lexer, i + 1);
  }
  if (c === '/' && regexAllowed(lexer)) {
    const end = regexEnd(src, i);
    setLast(lexer, '/');
    if (end < 0) return i + 1; // no closing / on this line: a division after all
    blank(lexer, i + 1, end - 1);
    return end;
  }
  if (c === '{') {
    lexer.braceKinds.push('b');
    setLast(lexer, c);
    return i + 1;
  }
  if (c === '}') {
    if (lexer.braceKinds.pop() === 't') {
      setLast(lexer, '`');
      return scanTemplate(lexer, i + 1);
    }
    setLast(lexer, c);
    return i + 1;
  }
  if (isIdentChar(c)) {
    let k = i;
    while (k < n && isIdentChar(src[k])) k++;
    setLast(lexer, src[k - 1], src.slice(i, k));
    return k;
  }
  if (!/\s/.test(c)) setLast(lexer, c);
  return i + 1;
}

// `start` is just after a ` or after the } closing a ${...}; returns where code resumes.
function scanTemplate(lexer, start) {
  const { src } = lexer;
  let k = start;
  while (k < src.length) {
    const c = src[k];
    if (c === '\\') k += 2;
    else if (c === '`') {
      blank(lexer, start - 1, k + 1);
      return k + 1;
    } else if (c === '$' && src[k + 1] === '{') {
      blank(lexer, start - 1, k + 2);
      lexer.braceKinds.push('t');
      return k + 2;
    } else k++;
  }
  blank(lexer, start - 1, src.length);
  return src.length;
}

function regexAllowed({ lastChar, lastWord }) {
  if (lastWord) return REGEX_AFTER_WORDS.has(lastWord);
  return lastChar === '' || lastChar === '}' || REGEX_AFTER_CHARS.has(lastChar);
}

// Index just past the regex literal's flags, or -1 when no closing / is on this line.
function regexEnd(src, start) {
  let k = start + 1;
  let inClass = false;
  while (k < src.length && src[k] !== '\n') {
    const ch = src[k];
    if (ch === '\\') k += 2;
    else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      k++;
    } else if (ch === '/' && !inClass) {
      k++;
      while (k < src.length && /[a-z]/i.test(src[k])) k++;
      return k;
    } else k++;
  }
  return -1;
}

function lineStarts(src) {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineOf(starts, index) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function prevNonSpace(text, index) {
  let k = index;
  while (k >= 0 && /\s/.test(text[k])) k--;
  return k;
}

// Index of the opener matching the closer at `index`, scanning backwards; -1 if none.
function matchBackward(text, index, open, close) {
  let depth = 0;
  for (let k = index; k >= 0; k--) {
    if (text[k] === close) depth++;
    else if (text[k] === open && --depth === 0) return k;
  }
  return -1;
}

// Whether the `)` at `index` closes the parameter list of a function or method.
function closesParameterList(text, index) {
  const open = matchBackward(text, index, '(', ')');
  if (open < 0) return false;
  let k = prevNonSpace(text, open - 1);
  if (text[k] === '>') k = prevNonSpace(text, matchBackward(text, k, '<', '>') - 1);
  if (text[k] === '?' || text[k] === '!') k = prevNonSpace(text, k - 1);
  if (text[k] === '*') return true;
  if (!isIdentChar(text[k])) return false;
  let start = k;
  while (start > 0 && isIdentChar(text[start - 1])) start--;
  return !CONTROL_WORDS.has(text.slice(start, k + 1));
}

// Walks back over a return type annotation (`): Promise<T> {`) to the `)` before its colon.
function returnTypeParen(text, index) {
  let depth = 0;
  for (let k = index; k >= 0 && index - k < 400; k--) {
    const c = text[k];
    if (c === '>' && text[k - 1] === '=') k--;
    else if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (--depth < 0) return -1;
      // An object type inside an annotation follows a type operator; anything else is a block.
      if (c === '{' && depth === 0 && !':|&<,(['.includes(text[prevNonSpace(text, k - 1)])) {
        return -1;
      }
    } else if (depth === 0 && (c === ';' || (c === '=' && text[k + 1] !== '>'))) return -1;
    else if (depth === 0 && c === ':') {
      const p = prevNonSpace(text, k - 1);
      return text[p] === ')' ? p : -1;
    }
  }
  return -1;
}

function opensFunctionBody(text, braceIndex) {
  const k = prevNonSpace(text, braceIndex - 1);
  if (k < 0) return false;
  if (text[k] === '>' && text[k - 1] === '=') return true;
  if (text[k] === ')') return closesParameterList(text, k);
  const paren = returnTypeParen(text, k);
  return paren >= 0 && closesParameterList(text, paren);
}

function checkFile(file, rel, src, masked, starts) {
  const lines = src.split('\n');
  lines.forEach((line, i) => {
    const columns = [...line.replace(/\r$/, '')].length;
    if (columns > MAX_LINE_COLUMNS) {
      report(rel, i + 1, 'max-line-columns', `${columns} columns (max ${MAX_LINE_COLUMNS})`);
    }
  });

  const isLibrary = LIBRARY_DIRS.some((d) => rel.startsWith(d + '/'));
  if (isLibrary && !rel.startsWith('src/cli/')) {
    for (const m of masked.matchAll(/(?<![\w$.])console\s*\.\s*log\b/g)) {
      report(rel, lineOf(starts, m.index), 'no-console-log', 'console.log in library code');
    }
  }

  const isTest = rel.startsWith('test/') || /\.test\.ts$/.test(rel);
  const maskedLines = masked.split('\n');
  const open = [];
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === '{') {
      let fn = opensFunctionBody(masked, i);
      const line = lineOf(starts, i);
      // describe() callbacks group tests; they are not functions in the sense of the rule.
      if (fn && isTest && /^\s*(describe|suite)\b/.test(maskedLines[line - 1])) fn = false;
      open.push({ fn, line });
    } else if (c === '}') {
      const o = open.pop();
      if (!o || !o.fn) continue;
      const count = lineOf(starts, i) - o.line + 1;
      if (count > MAX_FUNCTION_LINES) {
        const msg = `function body spans ${count} lines (max ${MAX_FUNCTION_LINES})`;
        report(rel, o.line, 'max-function-lines', msg);
      }
    }
  }
}

function findImports(src, masked, starts) {
  const imports = [];
  const patterns = [
    /(?<![\w$.])(?:import|export)\b[\w\s{},*$]*?\bfrom\s*(['"])/g,
    /(?<![\w$.])import\s*(['"])/g,
    /(?<![\w$.])(?:import|require)\s*\(\s*(['"])/g,
  ];
  for (const re of patterns) {
    for (const m of masked.matchAll(re)) {
      const quoteAt = m.index + m[0].length - 1;
      const end = src.indexOf(m[1], quoteAt + 1);
      if (end < 0) continue;
      imports.push({ spec: src.slice(quoteAt + 1, end), line: lineOf(starts, m.index) });
    }
  }
  return imports;
}

function resolveRelative(fromFile, spec, known) {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base, `${base}.ts`, join(base, 'index.ts')];
  if (/\.(c|m)?js$/.test(base)) candidates.push(base.replace(/js$/, 'ts'));
  return candidates.find((c) => known.has(c)) ?? null;
}

function checkStorageImport(rel, file, imp, resolved) {
  const { spec, line } = imp;
  const storageDir = join(root, 'storage') + sep;
  if (spec.startsWith('node:')) return;
  if (spec.startsWith('.')) {
    const target = resolved ?? resolve(dirname(file), spec);
    if (target.startsWith(storageDir)) return;
    const msg = `'${spec}' leaves storage/ (storage imports only node:* and its own files)`;
    report(rel, line, 'storage-imports', msg);
    return;
  }
  const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  if (STORAGE_ALLOWED_PACKAGES.has(pkg)) return;
  const msg = `'${spec}' is not node:*, a storage/ file, msgpackr or fs-extra`;
  report(rel, line, 'storage-imports', msg);
}

// Tarjan's strongly connected components; every component with a cycle is reported once.
function reportCycles(graph) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  let counter = 0;
  const components = [];
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), index.get(to)));
    }
    if (low.get(v) !== index.get(v)) return;
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    components.push(comp);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);

  for (const comp of components) {
    const members = new Set(comp);
    const start = comp.sort()[0];
    const selfEdge = (graph.get(start) ?? []).find((e) => e.to === start);
    if (comp.length === 1 && !selfEdge) continue;
    const path = shortestCycle(graph, start, members);
    const first = (graph.get(start) ?? []).find((e) => e.to === path[1]);
    const shown = path.map((p) => relative(root, p).split(sep).join('/')).join(' -> ');
    report(relative(root, start).split(sep).join('/'), first.line, 'no-import-cycle', shown);
  }
}

function shortestCycle(graph, start, members) {
  const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const { to } of graph.get(v) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let p = v; p !== start; p = prev.get(p)) path.splice(1, 0, p);
        return [...path, start];
      }
      if (!prev.has(to)) {
        prev.set(to, v);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

function main() {
  const startedMs = performance.now();
  const files = SCANNED_DIRS.flatMap((d) => listTsFiles(join(root, d), [])).sort();
  const known = new Set(files.filter((f) => statSync(f).isFile()));
  const graph = new Map();
  for (const file of files) {
    const rel = relative(root, file).split(sep).join('/');
    const src = readFileSync(file, 'utf8');
    const masked = maskCode(src);
    const starts = lineStarts(src);
    checkFile(file, rel, src, masked, starts);
    const isLibrary = LIBRARY_DIRS.some((d) => rel.startsWith(d + '/'));
    const edges = [];
    for (const imp of findImports(src, masked, starts)) {
      const resolved = imp.spec.startsWith('.') ? resolveRelative(file, imp.spec, known) : null;
      if (rel.startsWith('storage/')) checkStorageImport(rel, file, imp, resolved);
      const resolvedRel = resolved ? relative(root, resolved).split(sep).join('/') : '';
      if (isLibrary && LIBRARY_DIRS.some((d) => resolvedRel.startsWith(d + '/'))) {
        edges.push({ to: resolved, line: imp.line });
      }
    }
    if (isLibrary) graph.set(file, edges);
  }
  reportCycles(graph);

  const elapsedMs = Math.round(performance.now() - startedMs);
  if (violations.length > 0) {
    violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    for (const v of violations) console.error(`${v.file}:${v.line}: ${v.rule}: ${v.message}`);
    console.error(`style-check: ${violations.length} violation(s) in ${files.length} files`);
    process.exit(1);
  }
  console.log(
    `style-check: ${files.length} files OK (lines <= ${MAX_LINE_COLUMNS} columns, functions <= ` +
      `${MAX_FUNCTION_LINES} lines, no console.log in library code, no import cycles, ` +
      `storage imports allowed) in ${elapsedMs} ms`,
  );
}

try {
  main();
} catch (err) {
  console.error('style-check: crashed:', err);
  process.exit(2);
}
