/**
 * Splits a command string into words like a POSIX shell does for quoting, without any
 * expansion: `echo "a b" 'c'$HOME` -> ["echo", "a b", "c$HOME"]. Used by `command`, which
 * (like Ansible's) runs a program with arguments and no shell features.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const push = (s: string) => {
    word = (word ?? '') + s;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${text}`);
      push(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1]!)) {
          s += text[j + 1];
          j += 2;
        } else s += text[j++];
      }
      if (j >= text.length) throw new Error(`unclosed " in: ${text}`);
      push(s);
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 < text.length) push(text[i + 1]!);
      i += 2;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else {
      push(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
