"""GraphQL types the app defines itself (the others come from `@extras_features("graphql")`)."""
