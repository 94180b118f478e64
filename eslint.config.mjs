// ESLint: typescript-eslint's recommended rules, and @pulumi/eslint-plugin's
// type-aware rules that catch an Output interpolated into a plain template
// string (it would print "Calling [toString] on an Output<T>..." at run time).
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["bin/", "**/node_modules/", ".charts/", ".pulumi-state/", "**/*.js", "**/*.mjs"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests and their harness read engine-shaped, untyped records (recorded inputs, rendered manifests, gRPC messages).
        files: ["test/**/*.ts", "bench/**/*.ts", "policy/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-require-imports": "off" },
    },
);
