/**
 * Ansible's `key=value` free form on debug and fail (`debug: msg=hi`, `fail: msg="boom"`): the
 * keys are parameters, not part of the message. Text without a known `key=` stays the message.
 */
import { expect } from 'chai';
import debug from '../../../src/modules/control/debug.js';
import fail from '../../../src/modules/control/fail.js';

describe('debug and fail: free-form arguments', () => {
  it('reads msg=... and var=... as parameters', () => {
    expect(debug.freeForm!('msg=hi')).to.deep.equal({ msg: 'hi' });
    expect(debug.freeForm!('msg="hello {{ name }}"')).to.deep.equal({ msg: 'hello {{ name }}' });
    expect(debug.freeForm!("var=result.stdout")).to.deep.equal({ var: 'result.stdout' });
    expect(fail.freeForm!('msg="the disk is full"')).to.deep.equal({ msg: 'the disk is full' });
  });
  it('keeps any other text as the message', () => {
    expect(debug.freeForm!('hello there')).to.deep.equal({ msg: 'hello there' });
    expect(debug.freeForm!('a=b is not a parameter')).to.deep.equal({ msg: 'a=b is not a parameter' });
    expect(fail.freeForm!('stop here')).to.deep.equal({ msg: 'stop here' });
  });
});
