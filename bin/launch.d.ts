/** The folders `npm run build` compiles and copies to dist/. */
export declare const SOURCE_DIRS: readonly string[];
/** The build's stamp, relative to the checkout: written last, so a half-written build is never run. */
export declare const BUILD_STAMP: string;
/** Whether dist/ holds a complete build newer than every source file. */
export declare function compiledIsCurrent(root: string): boolean;
