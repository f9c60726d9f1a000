import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMoney } from '../src/js/format.js';

const currencyFormat = (currency) => new Intl.NumberFormat('en-US', { style: 'currency', currency });

test('amounts are minor units: cents in a two-decimal currency, plain decimals without one', () => {
  assert.equal(formatMoney(123456, 'EUR', 'en-US'), currencyFormat('EUR').format(1234.56));
  assert.equal(formatMoney(950, 'eur', 'en-US'), currencyFormat('EUR').format(9.5));
  assert.equal(formatMoney(950, null, 'en-US'), '9.50');
  assert.equal(formatMoney(0, null, 'en-US'), '0.00');
  assert.equal(formatMoney(950, 'NOT-A-CURRENCY', 'en-US'), '9.50', 'an unknown code falls back to the plain format');
});

test('a currency without decimals or with three takes its own minor unit, not a hundredth', () => {
  // 1 234 yen is 1234 minor units (JPY has none below the yen): it was shown as ¥12.
  assert.equal(formatMoney(1234, 'JPY', 'en-US'), currencyFormat('JPY').format(1234));
  assert.match(formatMoney(1234, 'KRW', 'en-US'), /1,234(?![.\d])/);
  // 1.234 dinars is 1234 fils (KWD has three decimals): it was shown as 12.340.
  assert.equal(formatMoney(1234, 'KWD', 'en-US'), currencyFormat('KWD').format(1.234));
  assert.match(formatMoney(1234, 'IQD', 'en-US'), /1\.234(?!\d)/, 'ISO 4217 says three, though Intl writes the dinar without decimals');
});

test('a currency usually written without decimals but counted in hundredths is exact, not rounded', () => {
  // HUF's minor unit is the fillér (ISO 4217: two decimals); Intl writes forints whole.
  // A whole amount as Intl usually writes it (ICU versions differ: with or without .00).
  assert.match(formatMoney(120000, 'HUF', 'en-US'), /1,200(?:\.00)?(?![.\d])/);
  assert.match(formatMoney(123456, 'HUF', 'en-US'), /1,234\.56(?!\d)/);
  assert.match(formatMoney(123450, 'HUF', 'en-US'), /1,234\.50(?!\d)/, 'every decimal once there is a part below the forint');
});
