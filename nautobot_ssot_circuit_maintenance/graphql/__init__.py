"""GraphQL types of the app, beyond those Nautobot generates from `@extras_features("graphql")`."""
