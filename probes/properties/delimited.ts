import { readFileSync } from 'node:fs';
import { epError } from '../../core/errors.ts';

export interface DelimitedTable {
  path: string;
  header: string[];
  /** data rows; `line` is the 1-based line number in the file, for messages that name rows */
  rows: Array<{ line: number; cells: string[] }>;
}

/**
 * Reads a CSV or TSV file (quotes as in RFC 4180, CRLF or LF). Norm files are small (< 2 MB) and no
 * CSV package is installed, so this is the 30-line state machine rather than a new dependency.
 */
export function readDelimited(path: string, delimiter?: ',' | '\t'): DelimitedTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw epError('EP_NORMS_FILE_UNREADABLE', { file: path, reason: (err as Error).message });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length);
  const sep = delimiter ?? (firstLine.includes('\t') ? '\t' : ',');
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false;
      else { if (ch === '\n') line++; cell += ch; }
      continue;
    }
    if (ch === '"' && cell.length === 0) quoted = true;
    else if (ch === sep) { cells.push(cell); cell = ''; } else if (ch === '\r') continue;
    else if (ch === '\n') {
      cells.push(cell);
      records.push({ line: recordLine, cells });
      cells = []; cell = ''; line++; recordLine = line;
    } else cell += ch;
  }
  if (cell.length > 0 || cells.length > 0) { cells.push(cell); records.push({ line: recordLine, cells }); }
  const nonEmpty = records.filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (nonEmpty.length === 0) throw epError('EP_NORMS_FILE_EMPTY', { file: path });
  return { path, header: nonEmpty[0].cells.map((h) => h.trim()), rows: nonEmpty.slice(1) };
}

/** Column indices of the required names; a coded error listing every missing one otherwise. */
export function requireColumns(table: DelimitedTable, names: readonly string[], what: string): number[] {
  const lower = table.header.map((h) => h.toLowerCase());
  const missing = names.filter((n) => !lower.includes(n.toLowerCase()));
  if (missing.length > 0) {
    throw epError('EP_NORMS_COLUMNS_MISSING', {
      file: table.path, columns: `column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`, header: table.header.filter(Boolean).join(', '), what, required: names.join(', '),
    });
  }
  return names.map((n) => lower.indexOf(n.toLowerCase()));
}
