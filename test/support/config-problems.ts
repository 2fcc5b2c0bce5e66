// What loadConfig refuses: its problems, or a failed expectation when it accepts the input.

import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config.js';

export function configProblems(argv: string[], env: Record<string, string>): readonly string[] {
  try {
    loadConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to refuse the configuration');
}
