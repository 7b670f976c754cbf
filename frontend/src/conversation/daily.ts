// daily-js behind a module of our own, so the build emits it as its own chunk named `assets/daily-<hash>.js`
// whatever daily-js calls its files (the browser e2e serves a fake Daily under that name).
export { default } from '@daily-co/daily-js';
