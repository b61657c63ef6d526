// The one place the console meets its libraries. Preact renders; htm turns
// tagged templates into Preact elements. A `${value}` in a template becomes
// a text node or a property, never markup: nothing from an operation is
// ever parsed as HTML.
import { h, render, Fragment } from './vendor/preact.mjs';
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from './vendor/hooks.mjs';
import htm from './vendor/htm.mjs';

export const html = htm.bind(h);
export { render, Fragment, useCallback, useEffect, useMemo, useRef, useState };
