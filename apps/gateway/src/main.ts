// First: V8 flags must be set before the rest is evaluated.
import './v8-flags.js';
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { runGateway } from './gateway.runner.js';

// `.env` in the working directory (the repo root under `npm start`); real variables win over it.
if (existsSync('.env')) process.loadEnvFile('.env');

void runGateway(process.env);
